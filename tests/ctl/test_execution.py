"""`scalperctl orders | positions | recovery | order` (scalperctl/execution.py): the execution service's
Redis keys as JSON, and a manual order as one intent on exec.intents; a real Redis, no service."""

from __future__ import annotations

import json

import pytest
import redis

from common import constants as c
from common.bybit.enums import OrderType, Side
from common.schemas import OrderIntent, decode
from tests.support import free_port, scalperctl, service_env

pytestmark = pytest.mark.service

STATE = {"state": "SAFE", "reason": "private WS lost"}


def _json(*args: str, redis_url: str) -> dict:
    out = scalperctl(*args, env=service_env(redis_url))
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_the_views_show_executions_keys_by_symbol_with_its_state(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.set(c.EXEC_STATE_KEY, json.dumps(STATE))
    client.hset(c.EXEC_ORDERS_KEY, mapping={
        "m-2": json.dumps({"symbol": "ETHUSDT", "orderLinkId": "m-2", "createdTime": "5"}),
        "m-1": json.dumps({"symbol": "BTCUSDT", "orderLinkId": "m-1", "createdTime": "9"})})
    client.hset(c.EXEC_POSITIONS_KEY, "BTCUSDT", json.dumps({"symbol": "BTCUSDT", "takeProfit": "110"}))
    client.lpush(c.EXEC_RECOVERY_KEY, *(json.dumps({"plan": n}) for n in (1, 2, 3)))  # 3 is the newest

    orders = _json("orders", redis_url=redis_url)
    assert [o["orderLinkId"] for o in orders["orders"]] == ["m-1", "m-2"] and orders["state"] == STATE
    assert _json("positions", redis_url=redis_url)["positions"] == [{"symbol": "BTCUSDT", "takeProfit": "110"}]
    assert _json("recovery", "--last", "2", redis_url=redis_url)["plans"] == [{"plan": 3}, {"plan": 2}]


def test_order_sends_one_intent_and_refuses_a_symbol_outside_the_universe(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.sadd(c.MARKET_SYMBOLS_KEY, "BTCUSDT")
    sent = _json("order", "sell", "btcusdt", "0.01", "--limit", "100", "--tp", "90", "--sl", "110",
                 redis_url=redis_url)
    (entry_id, fields), = client.xrange(c.EXEC_INTENTS)
    intent = decode(fields[c.PAYLOAD_FIELD])
    assert isinstance(intent, OrderIntent) and entry_id.decode() == sent["entry_id"]
    assert (intent.intent_id, intent.symbol, intent.side, intent.order_type, intent.price) == (
        sent["orderLinkId"], "BTCUSDT", Side.SELL, OrderType.LIMIT, "100")
    assert (intent.take_profit, intent.stop_loss, intent.source) == ("90", "110", "manual")

    refused = scalperctl("order", "buy", "ethusdt", "1", env=service_env(redis_url))
    assert refused.returncode == 2 and "ETHUSDT is not traded here" in refused.stderr
    assert client.xlen(c.EXEC_INTENTS) == 1


def test_no_redis_exits_1_naming_it():
    out = scalperctl("orders", env=service_env(f"redis://127.0.0.1:{free_port()}/0"))
    assert out.returncode == 1 and "Redis unreachable" in out.stderr
