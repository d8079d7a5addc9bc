"""`scalperctl book` and `scalperctl market` (scalperctl/market.py) read what the market service stores
in Redis."""

from __future__ import annotations

import json

import pytest
import redis

from common import constants as c
from common.schemas import BookTop, encode
from tests.support import scalperctl, service_env

pytestmark = pytest.mark.service


def test_book_prints_the_stored_levels_to_the_depth_asked(redis_url):
    book = BookTop(
        symbol="BTCUSDT",
        u=42,
        bids=[("100.5", "1"), ("100.0", "2"), ("99.5", "3")],
        asks=[("101.0", "4"), ("101.5", "5")],
        exchange_ts_ns=1,
        received_ts_ns=2,
    )
    client = redis.Redis.from_url(redis_url)
    client.set(c.market_book_key("BTCUSDT"), encode(book))
    out = scalperctl("book", "btcusdt", "--depth", "2", env=service_env(redis_url))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {
        "symbol": "BTCUSDT",
        "bids": [["100.5", "1"], ["100.0", "2"]],
        "asks": [["101.0", "4"], ["101.5", "5"]],
        "u": 42,
        "stale": False,
    }
    missing = scalperctl("book", "ETHUSDT", env=service_env(redis_url))
    assert missing.returncode == 1 and "no book for ETHUSDT" in missing.stderr


def test_market_shows_each_symbol_and_fails_while_a_book_is_stale(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.sadd(c.MARKET_SYMBOLS_KEY, "BTCUSDT", "ETHUSDT")
    row = {
        "symbol": "BTCUSDT",
        "last_price": "100.7",
        "bid": 100.5,
        "ask": 101.0,
        "spread": 0.5,
        "spread_bps": 49.6,
        "latency_ms": 3.2,
        "stale": "",
        "u": 42,
        "exchange_ts_ns": 1,
        "updated_ts_ns": 1,
    }
    client.hset(c.MARKET_SUMMARY_KEY, "BTCUSDT", json.dumps(row))
    client.hset(c.MARKET_SUMMARY_KEY, "ETHUSDT", json.dumps({**row, "symbol": "ETHUSDT", "stale": "gap"}))
    out = scalperctl("market", env=service_env(redis_url))
    assert out.returncode == 1  # ETHUSDT is stale
    lines = out.stdout.splitlines()
    assert lines[0].split()[:3] == ["symbol", "last", "spread"]
    assert lines[1].split()[:5] == ["BTCUSDT", "100.7", "0.500000", "49.60", "3.2"] and lines[2].endswith(
        "gap"
    )
    client.hset(c.MARKET_SUMMARY_KEY, "ETHUSDT", json.dumps({**row, "symbol": "ETHUSDT"}))
    assert scalperctl("market", "--json", env=service_env(redis_url)).returncode == 0
