"""The universe: SYMBOLS as configured, or the top N USDT perpetuals by 24h turnover, re-ranked."""

from __future__ import annotations

import httpx
import redis
from common.bybit.schemas.ticker import Ticker
from common.config import Settings
from common.schemas import decode
from market_service.universe import configured, rank

from common import constants as c
from tests.support import service_env, start_service, start_sim, wait_until


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
