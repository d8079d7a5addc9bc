"""Order endpoints as strict as Bybit, with raw signed requests: orderLinkId length, maxMktOrderQty and
minNotionalValue, positionIdx against the position mode, conditional orders held Untriggered until the
price crosses, order records with tpslMode and cumFeeDetail, and other categories listed empty."""

from __future__ import annotations

import time
from decimal import Decimal

import httpx
import pytest

from tests.exchange_sim.server.conftest import last_price, signed, signed_response, tick
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


def batch(sim, *orders: dict) -> httpx.Response:
    """create-batch of market buys of 0.001 BTCUSDT, each with its fields from `orders`."""
    items = [{"symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "0.001", **o} for o in orders]
    return signed_response(sim, "POST", "/v5/order/create-batch", body={"category": "linear", "request": items})


def test_create_batch_places_each_order_and_answers_each_code(sim):
    """Bybit's two lists, in the request's order: one order's refusal (here an orderLinkId too long, one
    already used) is its own code and an empty orderId, and the others are placed."""
    reply = batch(sim, {"orderLinkId": "b-1"}, {"orderLinkId": "x" * 37}, {"orderLinkId": "b-3"},
                  {"orderLinkId": "b-1"}).json()
    assert reply["retCode"] == 0, reply
    codes = [c["code"] for c in reply["retExtInfo"]["list"]]
    assert codes == [0, 10001, 0, 110072], reply
    listed = reply["result"]["list"]
    assert [o["orderLinkId"] for o in listed] == ["b-1", "x" * 37, "b-3", "b-1"]
    assert [bool(o["orderId"]) for o in listed] == [True, False, True, False]
    assert listed[0]["category"] == "linear" and listed[0]["symbol"] == "BTCUSDT" and listed[0]["createAt"].isdigit()
    for link, o in (("b-1", listed[0]), ("b-3", listed[2])):
        [placed] = realtime(sim, orderLinkId=link)
        assert (placed["orderId"], placed["orderStatus"]) == (o["orderId"], "Filled")


def test_create_batch_refuses_a_malformed_request_whole(sim):
    """At most 20 linear orders, at least one, and a category: else retCode 10001 and nothing placed."""
    too_many = batch(sim, *({"orderLinkId": f"many-{n}"} for n in range(21))).json()
    assert too_many["retCode"] == 10001 and not realtime(sim, orderLinkId="many-0"), too_many
    assert batch(sim).json()["retCode"] == 10001
    spot = signed(sim, "POST", "/v5/order/create-batch",
                  body={"category": "spot", "request": [{"symbol": "BTCUSDT", "side": "Buy", "orderType": "Market",
                                                          "qty": "0.001"}]})
    assert spot["retCode"] == 10001


def test_create_batch_spends_its_own_window_one_order_at_a_time(sim):
    """Bybit: a batch endpoint has a window of its own (create's is untouched) and spends one per order;
    the orders beyond what is left fail with 10006 and the ones before them are placed."""
    for attempt in range(5):  # the three batches must fall in one one-second window, a fresh one
        time.sleep(1 - time.time() % 1 + 0.01)  # the simulator's windows turn on the whole second
        first = batch(sim, *({"orderLinkId": f"w{attempt}-a{n}"} for n in range(8)))
        second = batch(sim, *({"orderLinkId": f"w{attempt}-b{n}"} for n in range(8)))
        third = batch(sim, {"orderLinkId": f"w{attempt}-c0"})
        if len({r.headers["X-Bapi-Limit-Reset-Timestamp"] for r in (first, second, third)}) == 1:
            break
    else:
        pytest.fail("no three batches fell in one window in 5 tries")
    assert [c["code"] for c in first.json()["retExtInfo"]["list"]] == [0] * 8
    assert (first.headers["X-Bapi-Limit"], first.headers["X-Bapi-Limit-Status"]) == ("10", "2")
    assert [c["code"] for c in second.json()["retExtInfo"]["list"]] == [0, 0] + [10006] * 6
    assert second.headers["X-Bapi-Limit-Status"] == "0"
    assert realtime(sim, orderLinkId=f"w{attempt}-b1") and not realtime(sim, orderLinkId=f"w{attempt}-b2")
    # a batch arriving with nothing left in the window is refused whole
    assert third.json()["retCode"] == 10006 and not realtime(sim, orderLinkId=f"w{attempt}-c0")
    assert create(sim)["retCode"] == 0  # order/create's own window is untouched
