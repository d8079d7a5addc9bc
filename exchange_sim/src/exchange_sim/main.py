"""scalper-exchange-sim: a Bybit v5 compatible exchange on one port (REST + WS), for SIM mode and tests.

When it listens it prints one JSON line with its URLs on stdout; SIGTERM/SIGINT stop it cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from decimal import Decimal
from pathlib import Path

import uvloop
from aiohttp import web

from common.bybit.errors import BybitError
from exchange_sim.server.app import create_app
from exchange_sim.server.sim import Sim, SimConfig
from exchange_sim.server.instrument_file import load_instruments


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scalper-exchange-sim", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    # Also from BYBIT_API_KEY/BYBIT_API_SECRET, so no secret need show on a command line (ps).
    p.add_argument("--api-key", default=os.environ.get("BYBIT_API_KEY"),
                   required="BYBIT_API_KEY" not in os.environ)
    p.add_argument("--api-secret", default=os.environ.get("BYBIT_API_SECRET"),
                   required="BYBIT_API_SECRET" not in os.environ)
    p.add_argument("--symbols", default="BTCUSDT,ETHUSDT", help="comma-separated USDT perpetuals")
    p.add_argument("--seed", type=int, default=7, help="seed of the market generator (same seed, same path)")
    p.add_argument("--balance", type=Decimal, default=Decimal("10000"), help="starting USDT wallet balance")
    p.add_argument("--replay", type=Path, help="replay this file of raw Bybit public WS lines instead")
    p.add_argument("--replay-speed", type=float, default=1.0, help="replay time multiplier")
    p.add_argument("--instruments", type=Path,
                   help="a saved /v5/market/instruments-info reply: its filters replace the simulator's own "
                        "(otherwise a replay's unlisted symbols get tick and lot from the recorded decimals)")
    p.add_argument("--tick-ms", type=int, default=100, help="market step interval (ms)")
    p.add_argument("--latency-ms", type=float, default=3.0, help="delay on every REST reply and WS message")
    p.add_argument("--jitter-ms", type=float, default=1.0, help="uniform +- jitter on that delay")
    p.add_argument("--rate-limit-scale", type=float, default=1.0, help="multiplies Bybit's limits; 0 = off")
    p.add_argument("--history-delay-ms", type=int, default=1500,
                   help="how far /v5/order/history lags behind the live order state, as Bybit's does (0: none)")
    p.add_argument("--admin-token", default="", help="token for /admin/* from loopback (besides signatures)")
    p.add_argument("--log-level", default="WARNING")
    return p


def build(args: argparse.Namespace) -> Sim:
    """The simulator the flags describe; raises ValueError naming the flag and file that are wrong."""
    if args.replay is not None and not args.replay.is_file():
        raise ValueError(f"--replay {args.replay}: no such file")
    try:
        instruments = load_instruments(args.instruments) if args.instruments else {}
    except ValueError as e:
        raise ValueError(f"--instruments {e}") from None
    config = SimConfig(
        api_key=args.api_key, api_secret=args.api_secret, symbols=[s for s in args.symbols.split(",") if s],
        seed=args.seed, balance=args.balance, tick_ms=args.tick_ms, latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms, rate_limit_scale=args.rate_limit_scale, admin_token=args.admin_token,
        replay=args.replay, replay_speed=args.replay_speed, instruments=instruments,
        history_delay_ms=args.history_delay_ms)
    try:
        return Sim(config)
    except ValueError as e:  # a recording that is not Bybit public messages
        raise ValueError(f"--replay {e}") from None
    except BybitError as e:  # a symbol (given or recorded) that is no USDT perpetual
        raise ValueError(e.message) from None


async def serve(args: argparse.Namespace, sim: Sim) -> None:
    # Held replies (drop/timeout faults) must not keep a stopping simulator alive.
    runner = web.AppRunner(create_app(sim), handle_signals=False, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    base = f"{args.host}:{port}"
    print(json.dumps({"rest": f"http://{base}", "ws_public": f"ws://{base}/v5/public/linear",
                      "ws_private": f"ws://{base}/v5/private"}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    args = parser().parse_args()
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format='{"ts":"%(asctime)s","level":"%(levelname)s","logger":"%(name)s","msg":"%(message)s"}')
    try:
        sim = build(args)
    except ValueError as e:
        parser().error(str(e))
    uvloop.run(serve(args, sim))


if __name__ == "__main__":
    main()
