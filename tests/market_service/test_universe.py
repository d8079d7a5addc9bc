"""The universe: SYMBOLS as configured, or the top N USDT perpetuals by 24h turnover, re-ranked."""

from __future__ import annotations

import json

import httpx
import pytest
import redis

from common.bybit.schemas.ticker import Ticker
from common.config import Settings
from common.schemas import BookTop, decode
from market_service.universe import configured, rank

from common import constants as c
from tests.market_service.harness import (
    faults,
    heartbeat,
    metrics,
    replay_sim,
    run_market,
    settle_and_compare,
    sim_status,
    stream,
)
from tests.market_service.recording import START_MS, session
from tests.support import service_env, start_service, start_sim, wait_until

pytestmark = pytest.mark.service


def test_rank_keeps_usdt_perpetuals_by_turnover():
    tickers = [
        Ticker(symbol="ETHUSDT", turnover24h="500"),
        Ticker(symbol="BTCUSDT", turnover24h="900.5"),
        Ticker(symbol="BTCPERP", turnover24h="99999"),  # USDC perpetual
        Ticker(symbol="BTCUSDT-26DEC25", turnover24h="99999"),  # dated future
        Ticker(symbol="SOLUSDT", turnover24h="500"),
        Ticker(symbol="NEWUSDT"),
    ]  # no turnover yet
    assert rank(tickers, top_n=3) == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    assert rank(tickers, top_n=1) == ["BTCUSDT"]


def test_configured_symbols_are_deduplicated_and_capped():
    s = Settings(symbols="btcusdt,ETHUSDT,BTCUSDT,SOLUSDT", market_max_symbols=2)
    assert configured(s) == ["BTCUSDT", "ETHUSDT"]
    assert configured(Settings(symbols="")) is None


def test_top_n_universe_comes_from_the_exchange_tickers(tmp_path, redis_url):
    sim = start_sim("--tick-ms", "50", tmp_path=tmp_path)
    env = service_env(
        redis_url,
        SYMBOLS="",
        MARKET_TOP_N="1",
        MARKET_UNIVERSE_REFRESH_S="1",
        MARKET_LATENCY_WARN_MS="0.001",  # any real latency is over it: health must say so
        BYBIT_REST_URL=sim.rest,
        BYBIT_WS_PUBLIC_URL=sim.ws_public,
    )
    proc = start_service("market", env, tmp_path / "market.log")
    client = redis.Redis.from_url(redis_url)

    def expected() -> str:
        rows = httpx.get(f"{sim.rest}/v5/market/tickers", params={"category": "linear"}, timeout=10).json()
        return max(rows["result"]["list"], key=lambda t: (float(t["turnover24h"]), t["symbol"] == "BTCUSDT"))[
            "symbol"
        ]

    try:
        wait_until(
            lambda: {s.decode() for s in client.smembers(c.MARKET_SYMBOLS_KEY)} == {expected()},
            timeout=60,
            what="the universe to be the top symbol by turnover",
        )
        top = next(iter(client.smembers(c.MARKET_SYMBOLS_KEY))).decode()
        wait_until(lambda: client.get(c.market_book_key(top)), timeout=30, what="its book in Redis")
        assert len(client.hkeys(c.MARKET_SUMMARY_KEY)) == 1
        hb = wait_until(
            lambda: (raw := client.get(c.heartbeat_key(c.MARKET))) and decode(raw),
            timeout=30,
            what="a heartbeat",
        )
        wait_until(
            lambda: "feed latency" in decode(client.get(c.heartbeat_key(c.MARKET))).reason,
            timeout=30,
            what="YELLOW for feed latency",
        )
        assert decode(client.get(c.heartbeat_key(c.MARKET))).status == "YELLOW" and hb.pid == proc.pid
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
        sim.stop()


# A recording in three phases for the ranked universe of one symbol (steps of both symbols' books):
LEADER, CHALLENGER = "BTCUSDT", "ETHUSDT"  # tied at the start, the leader ranks first by name
PHASE_1 = 1000  # both books move, only the leader trades: the universe is the leader
PHASE_2 = 3000  # both books move, only the challenger trades: it overtakes the leader about halfway
PHASE_3 = 1000  # only the leader's book moves: whoever is still subscribed to it gets every change


def three_phases() -> tuple[list[bytes], int]:
    """The recording's lines, and the number of simulator events before phase 3."""
    kept, events_before_3 = [], 0
    for line in session(symbols=[LEADER, CHALLENGER], steps=PHASE_1 + PHASE_2 + PHASE_3, seed=17,
                        trade_every=1):
        msg = json.loads(line)
        step = (msg["ts"] - START_MS - 1) // 2  # each step moves the clock 1 ms per symbol
        symbol = msg["topic"].rpartition(".")[2]
        trade = msg["topic"].startswith("publicTrade.")
        if step < PHASE_1:
            keep = not trade or symbol == LEADER
        elif step < PHASE_1 + PHASE_2:
            keep = not trade or symbol == CHALLENGER
        else:
            keep = not trade and symbol == LEADER
        if keep:
            kept.append(line)
            if step < PHASE_1 + PHASE_2:
                events_before_3 += len(msg["data"]) if trade else 1
    return kept, events_before_3


def test_re_ranking_swaps_the_universe_and_forgets_the_symbol_that_left(tmp_path, redis_url):
    lines, events_before_3 = three_phases()
    path = tmp_path / "recording.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    sim = replay_sim(path, tmp_path, speed="0.5")
    env, proc = run_market(
        tmp_path, redis_url, sim, symbols=[], MARKET_TOP_N="1", MARKET_UNIVERSE_REFRESH_S="1"
    )
    client = redis.Redis.from_url(redis_url)
    log = tmp_path / "market.log"

    def universe() -> set[str]:
        return {s.decode() for s in client.smembers(c.MARKET_SYMBOLS_KEY)}

    try:
        wait_until(lambda: universe() == {LEADER} and client.get(c.market_book_key(LEADER)), timeout=60,
                   what="the leader's book in Redis (the service started before the challenger overtook)")
        wait_until(lambda: universe() == {CHALLENGER}, timeout=60, what="the challenger to take over")
        # The switch came while both books still moved, so all of phase 3 is sent after it.
        assert sim_status(sim)["replay_events"] < events_before_3, "the replay outran the re-ranking"
        assert client.get(c.market_book_key(LEADER)) is None
        assert LEADER.encode() not in client.hkeys(c.MARKET_SUMMARY_KEY)
        faults(sim, drop=["public"])  # a reconnect subscribes what the service follows, and only that
        settle_and_compare(sim, env, lines, [CHALLENGER])

        assert universe() == {CHALLENGER} and client.get(c.market_book_key(LEADER)) is None
        assert client.hkeys(c.MARKET_SUMMARY_KEY) == [CHALLENGER.encode()]
        assert heartbeat(client).details["symbols"] == CHALLENGER
        books = [b.symbol for b in stream(client, c.MARKET_BOOK) if isinstance(b, BookTop)]
        assert books.count(LEADER) > 10 and books.count(CHALLENGER) > 10
        # The leader's pending book was dropped with it: none was published once the challenger's came.
        assert LEADER not in books[books.index(CHALLENGER):]
        # Book messages not applied are those of symbols outside the universe: with the leader
        # unsubscribed, at most the few in flight at the switch, not phase 3's changes to its book.
        scraped = metrics(log)
        unused = scraped['scalper_market_messages_in_total{topic="orderbook"}'] - scraped[
            "scalper_market_book_updates_total"
        ]
        assert 0 <= unused <= 20, unused
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
        sim.stop()
