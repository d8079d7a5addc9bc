"""The market service as a real process against the simulator replaying a recording, over real sockets.

After thousands of deltas the book `scalperctl book` prints equals the simulator's own book and an
independent reference computed from the recording; every recorded trade reaches `market.trades`
exactly once. With an injected delta gap and a silent WS the service says so (YELLOW, alerts),
resyncs, and ends with the correct book again.
"""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal

import httpx
import pytest
import redis

from common import constants as c
from common.schemas import Alert, BookTop, Heartbeat, Trade, decode
from tests.market_service.recording import reference_book, session
from tests.support import VENV_BIN, service_env, start_service, start_sim, wait_until

SYMBOLS = ["BTCUSDT", "ETHUSDT"]
ADMIN = {"X-Sim-Admin-Token": "admintoken"}


def replay_sim(path, tmp_path, *, speed: str):
    """The simulator replaying `path` as its market, with no network delay."""
    return start_sim("--admin-token", "admintoken", "--replay", str(path), "--replay-speed", speed,
                     "--tick-ms", "5", "--latency-ms", "0", "--jitter-ms", "0", tmp_path=tmp_path)


@pytest.fixture
def recording(tmp_path):
    lines = session(symbols=SYMBOLS, steps=2500, seed=11)
    path = tmp_path / "recording.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, lines


def run_market(tmp_path, redis_url, sim, **extra):
    env = service_env(
        redis_url,
        SYMBOLS=",".join(SYMBOLS),
        BYBIT_REST_URL=sim.rest,
        BYBIT_WS_PUBLIC_URL=sim.ws_public,
        MARKET_STALE_AFTER_S="2",
        **extra,
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


def heartbeat(client: redis.Redis) -> Heartbeat | None:
    raw = client.get(c.heartbeat_key(c.MARKET))
    return decode(raw) if raw else None


def metrics(log_path) -> dict[str, float]:
    """The service's /metrics, found through the port its "starting" log line names."""
    start = next(json.loads(line) for line in log_path.read_text().splitlines() if '"starting"' in line)
    text = httpx.get(f"http://127.0.0.1:{start['metrics_port']}/metrics", timeout=10).text
    return {
        k: float(v)
        for k, _, v in (line.rpartition(" ") for line in text.splitlines())
        if k and not k.startswith("#")
    }


def settle_and_compare(sim, env, client, lines) -> None:
    """Wait for the replay to end and our books to stop moving, then compare all three books."""
    wait_until(lambda: sim_status(sim)["replay_done"], timeout=120, what="the replay to finish")
    for symbol in SYMBOLS:
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


def test_replayed_recording_gives_the_simulators_book_and_every_trade_once(tmp_path, redis_url, recording):
    path, lines = recording
    sim = replay_sim(path, tmp_path, speed="0.5")
    env, proc = run_market(tmp_path, redis_url, sim)
    client = redis.Redis.from_url(redis_url)
    try:
        settle_and_compare(sim, env, client, lines)
        trades = [m for m in stream(client, c.MARKET_TRADES) if isinstance(m, Trade)]
        for symbol in SYMBOLS:  # from the first trade after we subscribed, every one, in order, once
            recorded = [
                t["i"]
                for line in lines
                if f"publicTrade.{symbol}".encode() in line
                for t in json.loads(line)["data"]
            ]
            ours = [t.trade_id for t in trades if t.symbol == symbol]
            assert len(ours) > 100 and ours == recorded[recorded.index(ours[0]) :]
        assert all(t.exchange_ts_ns < t.received_ts_ns <= t.published_ts_ns for t in trades)
        books = [m for m in stream(client, c.MARKET_BOOK) if isinstance(m, BookTop)]
        assert books and all(b.received_ts_ns <= b.published_ts_ns for b in books)
        live = [b for b in books if not b.stale]
        assert all(len(b.bids) <= 10 and b.micro.spread > 0 and b.micro.mid > 0 for b in live)
        assert any(b.micro.vwap > 0 and b.micro.buy_volume > 0 for b in live)
        hb = wait_until(
            lambda: (h := heartbeat(client)) and h.status == "GREEN" and h,
            timeout=30,
            what="a GREEN heartbeat",
        )
        assert hb.details["symbols"] == ",".join(SYMBOLS)
        out = subprocess.run(
            [str(VENV_BIN / "scalperctl"), "market", "--json"],
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert out.returncode == 0, (out.stdout, out.stderr)
        rows = {r["symbol"]: r for r in json.loads(out.stdout)["symbols"]}
        assert set(rows) == set(SYMBOLS)
        assert all(r["last_price"] and r["spread"] > 0 and r["latency_ms"] is not None for r in rows.values())
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
        sim.stop()


def test_gap_and_silent_ws_are_detected_and_recovered(tmp_path, redis_url, recording):
    path, lines = recording
    sim = replay_sim(path, tmp_path, speed="0.2")
    env, proc = run_market(tmp_path, redis_url, sim)
    client = redis.Redis.from_url(redis_url)
    try:
        wait_until(lambda: (h := heartbeat(client)) and h.status == "GREEN", timeout=60, what="GREEN")
        faults(sim, book_gap=1)
        alert = wait_until(
            lambda: next(
                (a for a in stream(client, c.SYS_ALERTS) if isinstance(a, Alert) and "gap" in a.detail), None
            ),
            timeout=30,
            what="a gap alert",
        )
        assert alert.key.startswith("market:resync:")
        faults(sim, drop=["public"])
        wait_until(
            lambda: any(isinstance(a, Alert) and a.key == "market:ws" for a in stream(client, c.SYS_ALERTS)),
            timeout=30,
            what="a WS disconnect alert",
        )
        faults(sim, ws_public_silent=True)
        hb = wait_until(
            lambda: (h := heartbeat(client)) and h.status == "YELLOW" and h,
            timeout=30,
            what="YELLOW on a silent feed",
        )
        assert "stale" in hb.reason or "disconnected" in hb.reason
        wait_until(
            lambda: any(
                isinstance(a, Alert) and "feed silent" in a.title for a in stream(client, c.SYS_ALERTS)
            ),
            timeout=30,
            what="a silent feed alert",
        )
        assert sim_status(sim)["replay_done"] is False  # the faults hit while the replay was running
        faults(sim, ws_public_silent=False)
        wait_until(lambda: (h := heartbeat(client)) and h.status == "GREEN", timeout=60, what="GREEN again")
        settle_and_compare(sim, env, client, lines)
        ids = [t.trade_id for t in stream(client, c.MARKET_TRADES) if isinstance(t, Trade)]
        assert len(ids) == len(set(ids))  # reconnects never published a trade twice
        scraped = metrics(tmp_path / "market.log")
        assert scraped['scalper_market_resyncs_total{reason="gap"}'] >= 1
        assert scraped["scalper_market_gaps_total"] >= 1
        assert scraped["scalper_market_book_updates_total"] > 1000
        assert scraped['scalper_market_messages_in_total{topic="orderbook"}'] > 1000
        assert scraped['scalper_market_feed_latency_seconds_count{hop="exchange_to_received"}'] > 0
        assert scraped['scalper_market_feed_latency_seconds_count{hop="received_to_published"}'] > 0
        assert "scalper_market_coalesced_total" in scraped
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
        sim.stop()
