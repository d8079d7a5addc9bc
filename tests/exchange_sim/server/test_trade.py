"""Order endpoints as strict as Bybit, with raw signed requests: orderLinkId length, maxMktOrderQty and
minNotionalValue, positionIdx against the position mode, conditional orders held Untriggered until the
price crosses, order records with tpslMode and cumFeeDetail, and other categories listed empty."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.exchange_sim.server.conftest import last_price, signed, tick
from tests.support import wait_until

pytestmark = pytest.mark.service
Q = {"category": "linear", "symbol": "BTCUSDT"}


def create(sim, **body) -> dict:
    return signed(sim, "POST", "/v5/order/create", body={**Q, "side": "Buy", "orderType": "Market",
                                                         "qty": "0.001", **body})


def realtime(sim, **q) -> list[dict]:
    return signed(sim, "GET", "/v5/order/realtime", params={**Q, **q})["result"]["list"]


def test_requests_bybit_refuses_are_refused(sim):
    assert create(sim, orderLinkId="x" * 37)["retCode"] == 10001  # "A max of 36 characters"
    assert create(sim, orderLinkId="x" * 36)["retCode"] == 0
    # BTCUSDT: maxMktOrderQty 119 (maxOrderQty 1190): a larger Market order is refused, a Limit one is not
    info = signed(sim, "GET", "/v5/market/instruments-info", params=Q)["result"]["list"][0]["lotSizeFilter"]
    assert (info["maxOrderQty"], info["maxMktOrderQty"]) == ("1190.000", "119.000")
    assert create(sim, qty="120.000")["retMsg"].startswith("The number of contracts exceeds maximum limit")
    # minNotionalValue 5 USDT: 0.001 BTC at 1000 is 1 USDT (Limit); a Market order is valued at the market
    low = create(sim, orderType="Limit", price="1000.0")
    assert low["retCode"] == 110094
    # one-way mode: positionIdx 1 (hedge Buy side) does not match
    assert create(sim, positionIdx=1)["retMsg"] == "position idx not match position mode"


def test_order_records_carry_tpsl_mode_and_fee_detail(sim):
    px = last_price(sim)
    assert create(sim, orderLinkId="fee-1", takeProfit=tick(px * Decimal("1.1")),
                  stopLoss=tick(px * Decimal("0.9")))["retCode"] == 0
    o = realtime(sim, orderLinkId="fee-1")[0]
    assert o["orderStatus"] == "Filled" and o["tpslMode"] == "Full"
    assert o["cumFeeDetail"] == {"USDT": o["cumExecFee"]} and Decimal(o["cumExecFee"]) > 0


def test_a_conditional_order_waits_untriggered_until_the_price_crosses(sim):
    px = last_price(sim)
    far = create(sim, orderLinkId="cond-far", triggerPrice=tick(px * Decimal("1.3")), triggerDirection=1)
    assert far["retCode"] == 0, far
    o = realtime(sim, orderLinkId="cond-far")[0]
    assert (o["orderStatus"], o["stopOrderType"], o["triggerDirection"], o["triggerBy"]) == (
        "Untriggered", "Stop", 1, "LastPrice")
    assert o["triggerPrice"] == tick(px * Decimal("1.3"))
    # a rising trigger at or below the market is refused, as Bybit refuses it
    assert create(sim, triggerPrice=tick(px * Decimal("0.9")), triggerDirection=1)["retCode"] == 110092
    assert create(sim, triggerPrice=tick(px * Decimal("1.1")), triggerDirection=2)["retCode"] == 110093
    # listed with the StopOrder filter, not with the Order one
    assert [x["orderLinkId"] for x in realtime(sim, orderFilter="StopOrder")] == ["cond-far"]
    assert realtime(sim, orderFilter="Order") == []
    # one just above the market triggers as the generated market wanders up (or is placed again lower)
    for attempt in range(20):
        now = last_price(sim)
        near = create(sim, orderLinkId=f"cond-near-{attempt}", triggerPrice=tick(now + Decimal("0.5")),
                      triggerDirection=1)
        if near["retCode"] == 0:
            try:
                wait_until(lambda a=attempt: realtime(sim, orderLinkId=f"cond-near-{a}")[0]["orderStatus"]
                           == "Filled", timeout=3, what="the conditional order to trigger and fill")
                break
            except AssertionError:
                assert signed(sim, "POST", "/v5/order/cancel", body={**Q, "orderLinkId": f"cond-near-{attempt}"})[
                    "retCode"] in (0, 110001)
    else:
        pytest.fail("no conditional order triggered in 20 tries")
    # cancelling an untriggered one deactivates it; cancel-all StopOrder takes only conditional orders
    signed(sim, "POST", "/v5/order/cancel-all", body={**Q, "orderFilter": "StopOrder"})
    assert realtime(sim, orderLinkId="cond-far")[0]["orderStatus"] == "Deactivated"


def test_other_categories_list_nothing(sim):
    for path in ("/v5/order/realtime", "/v5/order/history", "/v5/execution/list"):
        r = signed(sim, "GET", path, params={"category": "inverse", "symbol": "BTCUSD"})
        assert (r["retCode"], r["result"]["list"]) == (0, []), path
    assert signed(sim, "GET", "/v5/order/realtime", params={"category": "futures"})["retCode"] == 10001
