"""The market service as a real process against the simulator replaying a recording, over real sockets.

After thousands of deltas the book `scalperctl book` prints equals the simulator's own book and an
independent reference computed from the recording; every recorded trade reaches `market.trades`
exactly once. With an injected delta gap and a silent WS the service says so (YELLOW, alerts),
resyncs, and ends with the correct book again. Gap after gap is a resync storm (a CRIT alert) the
books heal from; quiet books are probed for a snapshot, which is no storm.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest
import redis

from common import constants as c
from common.schemas import Alert, BookTop, Severity, Trade, decode
from market_service.service import PROBE, RESYNC_STORM, resync_kind
from tests.market_service.harness import (
    alerts,
    faults,
    heartbeat,
    metrics,
    replay_sim,
    run_market,
    settle_and_compare,
    sim_status,
    stream,
)
from tests.market_service.recording import session
from tests.support import VENV_BIN, wait_until

pytestmark = pytest.mark.service

SYMBOLS = ["BTCUSDT", "ETHUSDT"]


@pytest.fixture
def recording(tmp_path):
    lines = session(symbols=SYMBOLS, steps=2500, seed=11)
    path = tmp_path / "recording.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, lines


def test_replayed_recording_gives_the_simulators_book_and_every_trade_once(tmp_path, redis_url, recording):
    path, lines = recording
    sim = replay_sim(path, tmp_path, speed="0.5")
    env, proc = run_market(tmp_path, redis_url, sim, symbols=SYMBOLS)
    client = redis.Redis.from_url(redis_url)
    try:
        settle_and_compare(sim, env, lines, SYMBOLS)
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
    env, proc = run_market(tmp_path, redis_url, sim, symbols=SYMBOLS)
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
            lambda: any(isinstance(a, Alert) and a.key == c.MARKET_WS_ALERT for a in stream(client, c.SYS_ALERTS)),
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
        settle_and_compare(sim, env, lines, SYMBOLS)
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


def live_since(client: redis.Redis, symbol: str, since_ns: int) -> bool:
    """The book in Redis is live and was last moved by a message received after `since_ns`."""
    raw = client.get(c.market_book_key(symbol))
    book = decode(raw) if raw else None
    return bool(book and not book.stale and book.received_ts_ns > since_ns)


STORM = c.MARKET_RESYNC_STORM_ALERT
GAPS = "scalper_market_gaps_total"


def test_a_resync_storm_raises_a_crit_alert_and_the_books_heal(tmp_path, redis_url):
    lines = session(symbols=SYMBOLS, steps=4000, seed=13)
    path = tmp_path / "recording.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    sim = replay_sim(path, tmp_path, speed="0.2")
    env, proc = run_market(tmp_path, redis_url, sim, symbols=SYMBOLS)
    client = redis.Redis.from_url(redis_url)
    log = tmp_path / "market.log"
    try:
        wait_until(lambda: (h := heartbeat(client)) and h.status == "GREEN", timeout=60, what="GREEN")
        for n in range(1, RESYNC_STORM + 1):  # one gap at a time, each healed before the next
            assert not any(a.key == STORM for a in alerts(client)), f"a storm after {n - 1} resyncs"
            faults(sim, book_gap=1)
            wait_until(lambda n=n: metrics(log).get(GAPS, 0) >= n, timeout=30, what=f"gap {n}")
            seen_ns = time.time_ns()  # the gap was found before this: a book moved since has been resynced
            for symbol in SYMBOLS:
                healed = f"{symbol} healed"
                wait_until(lambda s=symbol: live_since(client, s, seen_ns), timeout=30, what=healed)
        storm = wait_until(
            lambda: next((a for a in alerts(client) if a.key == STORM), None),
            timeout=30,
            what="the resync storm alert",
        )
        assert storm.severity == Severity.CRIT and storm.source == c.MARKET
        assert storm.detail.startswith(f"{RESYNC_STORM} book resyncs in ")
        assert sim_status(sim)["replay_done"] is False  # raised by the gaps, while the market moved
        wait_until(lambda: (h := heartbeat(client)) and h.status == "GREEN", timeout=60, what="GREEN again")
        settle_and_compare(sim, env, lines, SYMBOLS)
        scraped = metrics(log)
        assert scraped['scalper_market_resyncs_total{reason="gap"}'] == RESYNC_STORM
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
        sim.stop()


def test_quiet_books_are_probed_without_a_storm_alert(tmp_path, redis_url):
    lines = session(symbols=SYMBOLS, steps=50, seed=3)
    path = tmp_path / "recording.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    sim = replay_sim(path, tmp_path, speed="1")
    env, proc = run_market(tmp_path, redis_url, sim, symbols=SYMBOLS, MARKET_STALE_AFTER_S="0.5")
    client = redis.Redis.from_url(redis_url)
    log = tmp_path / "market.log"
    probes = 'scalper_market_resyncs_total{reason="no book message"}'
    try:
        wait_until(lambda: sim_status(sim)["replay_done"], timeout=60, what="the replay to finish")
        # A monitor pass probes each symbol at most once, so with this many probes counted the pass
        # that counted the RESYNC_STORM-th has finished, storm alert included.
        wait_until(
            lambda: metrics(log).get(probes, 0) >= RESYNC_STORM + len(SYMBOLS),
            timeout=60,
            what="quiet books probed more than a storm's worth of times",
        )
        assert not any(a.key == STORM for a in alerts(client))
        for symbol in SYMBOLS:  # a probe answered by a snapshot leaves the book live
            assert wait_until(lambda s=symbol: live_since(client, s, 0), timeout=30, what=f"{symbol} live")
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
        sim.stop()


def test_the_resync_kind_is_what_went_wrong_and_an_unanswered_resync_is_a_silent_feed():
    assert resync_kind("BTCUSDT: gap: delta u=7 after u=5") == "gap"
    assert resync_kind("no book message for 2 s") == PROBE  # a probe: neither alerted nor part of a storm
    assert resync_kind("resync unanswered: no book message for 4 s") == "unanswered"
    assert resync_kind("resync unanswered: gap: delta u=7 after u=5") == "unanswered"
    assert resync_kind("public WS disconnected") == "disconnected"
    assert resync_kind("X: invalid size '-1' at price '100'") == "invalid"
