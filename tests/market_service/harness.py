"""The market service as a real process against the simulator replaying a recording: start, poke, read.

Shared by the service-level tests (books, faults, resync storms, universe re-ranking).
"""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal

import httpx
import redis

from common import constants as c
from common.schemas import Alert, Heartbeat, decode
from tests.market_service.recording import reference_book
from tests.support import VENV_BIN, service_env, start_service, start_sim, wait_until

ADMIN_TOKEN = "admintoken"
ADMIN = {"X-Sim-Admin-Token": ADMIN_TOKEN}


def replay_sim(path, tmp_path, *, speed: str):
    """The simulator replaying `path` as its market, with no network delay."""
    return start_sim("--admin-token", ADMIN_TOKEN, "--replay", str(path), "--replay-speed", speed,
                     "--tick-ms", "5", "--latency-ms", "0", "--jitter-ms", "0", tmp_path=tmp_path)


def run_market(tmp_path, redis_url, sim, *, symbols: list[str], **extra):
    """The market service on `symbols` (empty: the ranked universe); `extra` are more settings."""
    env = service_env(
        redis_url,
        SYMBOLS=",".join(symbols),
        BYBIT_REST_URL=sim.rest,
        BYBIT_WS_PUBLIC_URL=sim.ws_public,
        **{"MARKET_STALE_AFTER_S": "2", **extra},
    )
    return env, start_service("market", env, tmp_path / "market.log")


def ctl_book(env, symbol: str) -> dict:
    out = subprocess.run(
        [str(VENV_BIN / "scalperctl"), "book", symbol, "--depth", "50"],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, (out.stdout, out.stderr)
    return json.loads(out.stdout)


def as_decimal(levels) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(p), Decimal(q)) for p, q in levels]


def sim_status(sim) -> dict:
    return httpx.get(f"{sim.rest}/admin/status", headers=ADMIN, timeout=10).json()["result"]


def faults(sim, **patch) -> None:
    r = httpx.post(f"{sim.rest}/admin/faults", headers=ADMIN, json=patch, timeout=10).json()
    assert r["retCode"] == 0, r


def stream(client: redis.Redis, name: str, since: str = "0") -> list:
    return [decode(fields[c.PAYLOAD_FIELD]) for _, fields in client.xrange(name, since)]


def alerts(client: redis.Redis) -> list[Alert]:
    return [a for a in stream(client, c.SYS_ALERTS) if isinstance(a, Alert)]


def heartbeat(client: redis.Redis) -> Heartbeat | None:
    raw = client.get(c.heartbeat_key(c.MARKET))
    return decode(raw) if raw else None


def metrics(log_path) -> dict[str, float]:
    """The service's /metrics, found through the port its "starting" log line names (none before it)."""
    lines = log_path.read_text().splitlines()
    start = next((json.loads(line) for line in lines if '"starting"' in line), None)
    if start is None:
        return {}
    text = httpx.get(f"http://127.0.0.1:{start['metrics_port']}/metrics", timeout=10).text
    return {
        k: float(v)
        for k, _, v in (line.rpartition(" ") for line in text.splitlines())
        if k and not k.startswith("#")
    }


def settle_and_compare(sim, env, lines, symbols: list[str]) -> None:
    """Wait for the replay to end and our books to stop moving, then compare all three books."""
    wait_until(lambda: sim_status(sim)["replay_done"], timeout=120, what="the replay to finish")
    for symbol in symbols:
        ref = reference_book(lines, symbol)

        def same(symbol=symbol, ref=ref):
            ours = ctl_book(env, symbol)
            return (
                not ours["stale"]
                and as_decimal(ours["bids"]) == as_decimal(ref["bids"][:50])
                and as_decimal(ours["asks"]) == as_decimal(ref["asks"][:50])
                and ours
            )

        ours = wait_until(same, timeout=60, interval=0.5, what=f"{symbol}: our book to equal the reference")
        own = httpx.get(
            f"{sim.rest}/v5/market/orderbook",
            params={"category": "linear", "symbol": symbol, "limit": 50},
            timeout=10,
        ).json()["result"]
        assert as_decimal(ours["bids"]) == as_decimal(own["b"]) and as_decimal(ours["asks"]) == as_decimal(
            own["a"]
        )
        assert (
            ours["u"] > 200
        )  # the sim's feed sent us that many messages on this topic (a slow start misses some)
