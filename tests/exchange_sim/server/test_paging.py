"""Bybit's paging over real sockets, with raw signed requests: a default page, opaque percent-encoded
cursors sent back as received, Bybit's maximum limits, and a cursor encoded twice refused."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote, urlencode

import pytest

from tests.exchange_sim.server.conftest import last_price, signed, tick

pytestmark = pytest.mark.service
ORDERS = {"category": "linear", "symbol": "BTCUSDT"}


def _rest_25(sim) -> list[str]:
    low = last_price(sim) * Decimal("0.5")
    links = [f"page-{i}" for i in range(25)]
    for i, link in enumerate(links):
        r = signed(sim, "POST", "/v5/order/create", body={
            **ORDERS, "side": "Buy", "orderType": "Limit", "qty": "0.001", "price": tick(low - i),
            "orderLinkId": link, "positionIdx": 0})
        assert r["retCode"] == 0, r
    return links


def test_open_orders_page_at_20_and_the_cursor_is_sent_back_as_received(unlimited):
    sim = unlimited
    links = _rest_25(sim)
    first = signed(sim, "GET", "/v5/order/realtime", params=ORDERS)["result"]
    cursor = first["nextPageCursor"]
    assert len(first["list"]) == 20 and "%" in cursor  # already percent-encoded, as Bybit's are
    assert [o["orderLinkId"] for o in first["list"]] == links[::-1][:20]  # newest first
    nxt = signed(sim, "GET", "/v5/order/realtime", raw_query=urlencode(sorted(ORDERS.items())) + "&cursor=" + cursor)
    assert [o["orderLinkId"] for o in nxt["result"]["list"]] == links[::-1][20:]
    assert nxt["result"]["nextPageCursor"] == ""
    # the cursor encoded once more (a client that re-encodes it) is a cursor Bybit never issued
    twice = signed(sim, "GET", "/v5/order/realtime", params={**ORDERS, "cursor": cursor})
    assert twice["retCode"] == 10001
    # Bybit's maximum limit for open orders is 50
    assert len(signed(sim, "GET", "/v5/order/realtime", params={**ORDERS, "limit": "50"})["result"]["list"]) == 25
    assert signed(sim, "GET", "/v5/order/realtime", params={**ORDERS, "limit": "51"})["retCode"] == 10001


def test_a_cursor_survives_its_row_closing_between_pages(unlimited):
    sim = unlimited
    links = _rest_25(sim)
    first = signed(sim, "GET", "/v5/order/realtime", params={**ORDERS, "limit": "10"})["result"]
    last_on_page = first["list"][-1]["orderLinkId"]
    assert signed(sim, "POST", "/v5/order/cancel", body={**ORDERS, "orderLinkId": last_on_page})["retCode"] == 0
    q = urlencode(sorted({**ORDERS, "limit": "10"}.items())) + "&cursor=" + first["nextPageCursor"]
    nxt = signed(sim, "GET", "/v5/order/realtime", raw_query=q)["result"]["list"]
    assert [o["orderLinkId"] for o in nxt] == links[::-1][10:20]  # nothing repeated, nothing skipped


def test_executions_instruments_and_history_page_too(sim):
    for i in range(3):
        r = signed(sim, "POST", "/v5/order/create", body={**ORDERS, "side": "Buy", "orderType": "Market",
                                                          "qty": "0.001", "orderLinkId": f"fill-{i}"})
        assert r["retCode"] == 0, r
    seen, cursor = [], ""
    for _ in range(10):
        q = urlencode(sorted({**ORDERS, "limit": "2"}.items())) + (f"&cursor={cursor}" if cursor else "")
        page = signed(sim, "GET", "/v5/execution/list", raw_query=q)["result"]
        seen += [(x["execId"], x["orderLinkId"]) for x in page["list"]]
        cursor = page["nextPageCursor"]
        if not cursor:
            break
    assert not cursor and len({e for e, _ in seen}) == len(seen)  # every fill once, newest first
    assert list(dict.fromkeys(link for _, link in seen)) == ["fill-2", "fill-1", "fill-0"]
    assert signed(sim, "GET", "/v5/execution/list", params={**ORDERS, "limit": "101"})["retCode"] == 10001
    inst = signed(sim, "GET", "/v5/market/instruments-info", params={"category": "linear", "limit": "1"})["result"]
    assert [i["symbol"] for i in inst["list"]] == ["BTCUSDT"] and inst["nextPageCursor"]
    q = "category=linear&limit=1&cursor=" + inst["nextPageCursor"]
    assert [i["symbol"] for i in signed(sim, "GET", "/v5/market/instruments-info", raw_query=q)["result"]["list"]] \
        == ["ETHUSDT"]
    assert signed(sim, "GET", "/v5/order/history", params={**ORDERS, "limit": "51"})["retCode"] == 10001
    assert signed(sim, "GET", "/v5/position/list", params={**ORDERS, "limit": "201"})["retCode"] == 10001


def test_a_forged_cursor_is_refused(sim):
    forged = quote("page_args=whatever&symbol=1&", safe="")
    q = urlencode(sorted(ORDERS.items())) + "&cursor=" + forged
    assert signed(sim, "GET", "/v5/order/realtime", raw_query=q)["retCode"] == 10001
