"""The simulator fixture: a real process on a real socket (tests.support.start_sim), with an admin token;
and the connector clients the tests talk to it with."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from urllib.parse import urlencode

import httpx
import pytest
from common.bybit.enums import Category, OrderType, Side
from common.bybit.http import BybitHttp
from common.bybit.rest import BybitRest
from common.bybit.schemas.order import PlaceOrderParams
from common.bybit.signing import rest_signature

from tests.support import start_sim


@pytest.fixture
def sim(tmp_path):
    s = start_sim("--admin-token", "admintoken", tmp_path=tmp_path)
    yield s
    s.stop()


@pytest.fixture
def unlimited(tmp_path):
    """A simulator without rate limits (`--rate-limit-scale 0`), for tests that place many orders fast."""
    s = start_sim("--rate-limit-scale", "0", tmp_path=tmp_path)
    yield s
    s.stop()


def rest(sim, **kw) -> BybitRest:
    """A connector REST client signed with the simulator's account."""
    return BybitRest(BybitHttp(base_url=sim.rest, api_key=sim.key, api_secret=sim.secret, **kw))


def order(**kw) -> PlaceOrderParams:
    """A market buy of 0.001 BTCUSDT, with `kw` overriding any field."""
    return PlaceOrderParams(**{"category": Category.LINEAR, "symbol": "BTCUSDT", "side": Side.BUY,
                               "orderType": OrderType.MARKET, "qty": "0.001", **kw})


def signed(sim, method: str, path: str, *, params: dict | None = None, body: dict | None = None,
           raw_query: str | None = None) -> dict:
    """One raw signed Bybit v5 request (signed_response); returns the reply's JSON."""
    return signed_response(sim, method, path, params=params, body=body, raw_query=raw_query).json()


def signed_response(sim, method: str, path: str, *, params: dict | None = None, body: dict | None = None,
                    raw_query: str | None = None) -> httpx.Response:
    """One raw signed Bybit v5 request, as a client knowing only Bybit's docs sends it: the query string
    (`raw_query` verbatim if given) or the JSON body is what gets signed."""
    ts, window = str(int(time.time() * 1000)), "5000"
    if method == "GET":
        payload = raw_query if raw_query is not None else urlencode(sorted((params or {}).items()))
        url, data = f"{sim.rest}{path}?{payload}", None
    else:
        payload = json.dumps(body or {}, separators=(",", ":"))
        url, data = f"{sim.rest}{path}", payload.encode()
    sign = rest_signature(secret=sim.secret, timestamp=ts, api_key=sim.key, recv_window=window,
                          params=payload.encode())
    headers = {"Content-Type": "application/json", "X-BAPI-API-KEY": sim.key, "X-BAPI-TIMESTAMP": ts,
               "X-BAPI-RECV-WINDOW": window, "X-BAPI-SIGN": sign}
    return httpx.request(method, url, content=data, headers=headers, timeout=10)


def last_price(sim, symbol: str = "BTCUSDT") -> Decimal:
    reply = signed(sim, "GET", "/v5/market/tickers", params={"category": "linear", "symbol": symbol})
    return Decimal(reply["result"]["list"][0]["lastPrice"])


def tick(price: Decimal) -> str:
    """A BTCUSDT price on its 0.1 grid."""
    return str(price.quantize(Decimal("0.1")))
