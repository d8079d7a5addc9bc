"""`scalperctl sim ...`: read and flip the simulator's fault switches at run time.

The simulator is where SIM mode's services find it (`urls(settings).rest`: BYBIT_REST_URL, else the
one `make run` starts on loopback), and the call is signed as a Bybit request with the account the
services use (`credentials(settings)`: BYBIT_API_KEY/SECRET, else that simulator's account); the
simulator's /admin/* endpoints accept that. So next to `make run` it needs no settings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from common.bybit.errors import BybitError, BybitNetworkError
from common.bybit.http import BybitHttp
from common.bybit.sim_account import Credentials, credentials
from common.bybit.urls import urls

from common import config

FAULT_KEYS = ("ws_public_silent", "ws_private_silent", "rest_delay_ms", "rest_drop", "ambiguous_submit",
              "rate_limit_burst", "book_gap", "reject_orders", "clock_skew_ms")
COMMANDS = ("sim",)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    sim = subparsers.add_parser("sim", help="the exchange simulator's fault switches (SIM mode)")
    sub = sim.add_subparsers(dest="sim_cmd", required=True)
    sub.add_parser("status", help="faults, market steps, connections, replay progress")
    sub.add_parser("faults", help="the current fault switches")
    st = sub.add_parser("set", help="change switches: KEY=VALUE ... (keys: " + ", ".join(FAULT_KEYS) + ")")
    st.add_argument("pairs", nargs="+", metavar="KEY=VALUE")
    sub.add_parser("reset", help="clear every fault")
    dr = sub.add_parser("drop", help="cut every public or private WebSocket now")
    dr.add_argument("which", choices=["public", "private", "all"])


def parse_pairs(pairs: list[str]) -> dict[str, Any]:
    """KEY=VALUE words as a fault patch; raises ValueError naming a bad key or value."""
    patch: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or key not in FAULT_KEYS:
            raise ValueError(f"{pair!r}: expected KEY=VALUE with KEY one of {', '.join(FAULT_KEYS)}")
        if raw.lower() in ("true", "on", "yes"):
            patch[key] = True
        elif raw.lower() in ("false", "off", "no"):
            patch[key] = False
        elif raw.lstrip("-").isdigit():
            patch[key] = int(raw)
        else:
            patch[key] = raw
    return patch


def run(args: argparse.Namespace, settings: config.Settings) -> int:
    if settings.execution_mode is not config.ExecutionMode.SIM and not settings.bybit_rest_url:
        print(f"config error: BYBIT_REST_URL: required for `scalperctl sim` when EXECUTION_MODE="
              f"{settings.execution_mode.value} (the simulator's URL; Bybit has no fault switches)",
              file=sys.stderr)
        return config.EX_CONFIG
    if args.sim_cmd == "set":
        try:
            body: dict[str, Any] | None = parse_pairs(args.pairs)
        except ValueError as e:
            print(f"scalperctl sim: {e}", file=sys.stderr)
            return 2
    elif args.sim_cmd == "reset":
        body = {"reset": True}
    elif args.sim_cmd == "drop":
        body = {"drop": ["public", "private"] if args.which == "all" else [args.which]}
    else:
        body = None
    path = "/admin/status" if args.sim_cmd == "status" else "/admin/faults"
    rest = urls(settings).rest
    try:
        result = asyncio.run(_call(rest, credentials(settings), path, body))
    except (BybitError, BybitNetworkError) as e:
        print(f"scalperctl sim: {rest}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


async def _call(rest: str, account: Credentials, path: str, body: dict[str, Any] | None) -> Any:
    http = BybitHttp(base_url=rest, api_key=account.key, api_secret=account.secret, timeout_s=5.0,
                     time_sync=False)
    try:
        if body is None:
            return await http.get(path, {}, dict)
        return await http.post(path, body, dict)
    finally:
        await http.aclose()
