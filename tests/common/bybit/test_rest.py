"""The connector's REST lists against the strict simulator over a real socket: every page followed with
the cursor sent back as received, an order found by orderLinkId before the history has it, and a
hedge-mode account refused by name."""

from __future__ import annotations

from decimal import Decimal

import pytest
from common.bybit.enums import Category, OrderType, Side, TimeInForce
from common.bybit.rest import BybitRest, PositionModeError
from common.bybit.schemas.order import CancelOrderParams, Order, PlaceOrderParams

from tests.exchange_sim.server.conftest import rest, signed, unlimited  # noqa: F401 (a fixture)

pytestmark = pytest.mark.service


async def _rest_far_below(r: BybitRest, n: int, *, symbol: str = "BTCUSDT") -> set[str]:
    last = Decimal((await r.tickers(symbol=symbol))[0].lastPrice)
    links = set()
    for i in range(n):
        link = f"{symbol[:3]}-{i}"
        await r.place_order(PlaceOrderParams(
            category=Category.LINEAR, symbol=symbol, side=Side.BUY, orderType=OrderType.LIMIT, qty="0.01",
            price=str((last * Decimal("0.5")).quantize(Decimal("0.1")) - i), timeInForce=TimeInForce.GTC,
            orderLinkId=link, positionIdx=0))
        links.add(link)
    return links


async def test_open_orders_and_positions_follow_every_page(unlimited):
    r = rest(unlimited)
    try:
        links = await _rest_far_below(r, 60) | await _rest_far_below(r, 15, symbol="ETHUSDT")
        assert {o.orderLinkId for o in await r.open_orders()} == links  # 50 a page: two pages
        assert len(await r.open_orders(symbol="ETHUSDT")) == 15
        small = await r.paged("/v5/order/realtime", {"category": "linear", "settleCoin": "USDT"},
                              Order, limit=7)
        assert {o.orderLinkId for o in small} == links  # eleven pages of 7, cursor as received each time
        assert await r.positions() == []  # nothing filled: by settleCoin, flat positions are not listed
    finally:
        await r.http.aclose()


async def test_an_order_is_found_by_link_before_the_history_has_it(unlimited):
    r = rest(unlimited)
    try:
        await _rest_far_below(r, 1)
        await r.cancel_order(CancelOrderParams(category=Category.LINEAR, symbol="BTCUSDT", orderLinkId="BTC-0"))
        assert await r.order_history(symbol="BTCUSDT", order_link_id="BTC-0") == []  # behind, as Bybit's
        found = await r.order_by_link(symbol="BTCUSDT", order_link_id="BTC-0")
        assert found is not None and found.orderStatus == "Cancelled"
        assert await r.order_by_link(symbol="BTCUSDT", order_link_id="never-sent") is None
    finally:
        await r.http.aclose()


async def test_a_hedge_mode_account_is_refused_by_name(unlimited):
    r = rest(unlimited)
    try:
        await r.check_one_way(probe="BTCUSDT", held=[])
        assert signed(unlimited, "POST", "/v5/position/switch-mode",
                      body={"category": "linear", "symbol": "ETHUSDT", "mode": 3})["retCode"] == 0
        await r.check_one_way(probe="BTCUSDT", held=[])  # ETHUSDT was not asked about and holds nothing
        with pytest.raises(PositionModeError, match="ETHUSDT in hedge mode"):
            await r.check_one_way(probe="ETHUSDT", held=[])
    finally:
        await r.http.aclose()
