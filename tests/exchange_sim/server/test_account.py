"""Position and account endpoints as strict as Bybit, with raw signed requests: trading-stop needs
positionIdx, positions by settleCoin list only sizes, hedge mode as an account setting, partial TP/SL
orders, trailing stops, TP/SL by index price, and the account and API key info clients read."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.exchange_sim.server.conftest import last_price, signed, tick
from tests.support import wait_until

pytestmark = pytest.mark.service
Q = {"category": "linear", "symbol": "BTCUSDT"}


def buy(sim, qty: str = "0.010", **body) -> None:
    r = signed(sim, "POST", "/v5/order/create", body={**Q, "side": "Buy", "orderType": "Market", "qty": qty,
                                                      **body})
    assert r["retCode"] == 0, r


def stop(sim, **body) -> dict:
    return signed(sim, "POST", "/v5/position/trading-stop", body={**Q, **body})


def positions(sim, **q) -> list[dict]:
    return signed(sim, "GET", "/v5/position/list", params={"category": "linear", **q})["result"]["list"]


def test_trading_stop_needs_position_idx_and_flat_positions_are_not_listed_by_coin(sim):
    buy(sim)
    px = last_price(sim)
    assert stop(sim, tpslMode="Full", stopLoss=tick(px * Decimal("0.8")))["retCode"] == 10001
    assert stop(sim, tpslMode="Full", stopLoss=tick(px * Decimal("0.8")), positionIdx=0)["retCode"] == 0
    assert [p["symbol"] for p in positions(sim, settleCoin="USDT")] == ["BTCUSDT"]
    eth = positions(sim, symbol="ETHUSDT")  # asked by symbol, a flat position is listed
    assert [(p["symbol"], p["size"]) for p in eth] == [("ETHUSDT", "0")]
    r = signed(sim, "GET", "/v5/position/list", params={"category": "inverse", "settleCoin": "BTC"})
    assert (r["retCode"], r["result"]["list"]) == (0, [])


def test_tp_sl_trigger_by_the_requested_price(sim):
    buy(sim)
    px = last_price(sim)
    r = stop(sim, positionIdx=0, takeProfit=tick(px * Decimal("1.2")), tpTriggerBy="IndexPrice",
             stopLoss=tick(px * Decimal("0.8")), slTriggerBy="MarkPrice")
    assert r["retCode"] == 0, r
    p = positions(sim, symbol="BTCUSDT")[0]
    assert (p["tpTriggerBy"], p["slTriggerBy"]) == ("IndexPrice", "MarkPrice")
    assert stop(sim, positionIdx=0, takeProfit=tick(px * Decimal("1.2")), tpTriggerBy="Bogus")["retCode"] == 10001


def test_partial_tp_sl_are_separate_orders_of_their_size(sim):
    buy(sim, qty="0.010")
    px = last_price(sim)
    r = stop(sim, positionIdx=0, tpslMode="Partial", takeProfit=tick(px * Decimal("1.2")), tpSize="0.004",
             stopLoss=tick(px * Decimal("0.8")), slSize="0.003")
    assert r["retCode"] == 0, r
    orders = signed(sim, "GET", "/v5/order/realtime", params={**Q, "orderFilter": "StopOrder"})["result"]["list"]
    got = sorted((o["stopOrderType"], o["qty"], o["side"], o["orderStatus"], o["reduceOnly"], o["tpslMode"])
                 for o in orders)
    assert got == [("PartialStopLoss", "0.003", "Sell", "Untriggered", True, "Partial"),
                   ("PartialTakeProfit", "0.004", "Sell", "Untriggered", True, "Partial")]
    p = positions(sim, symbol="BTCUSDT")[0]
    assert (p["takeProfit"], p["stopLoss"]) == ("0", "0")  # the position's own TP/SL are untouched
    assert stop(sim, positionIdx=0, tpslMode="Partial", takeProfit=tick(px * Decimal("1.2")))["retCode"] == 10001


def test_a_trailing_stop_closes_the_position_once_the_price_falls_back(sim):
    buy(sim, qty="0.010")
    r = stop(sim, positionIdx=0, trailingStop="5.0")  # the generated market moves more than 5 within seconds
    assert r["retCode"] == 0, r
    assert positions(sim, symbol="BTCUSDT")[0]["trailingStop"] == "5.0"
    wait_until(lambda: positions(sim, symbol="BTCUSDT")[0]["size"] == "0", timeout=30,
               what="the trailing stop to close the position")
    def closed_by() -> list[str]:  # the order history lags behind, as Bybit's does
        hist = signed(sim, "GET", "/v5/order/history", params={**Q, "orderFilter": "StopOrder", "orderStatus": "Filled"})
        return [o["stopOrderType"] for o in hist["result"]["list"]]

    wait_until(closed_by, timeout=10, what="the trailing stop's order in the history")
    assert closed_by() == ["TrailingStop"]


def test_hedge_mode_is_an_account_setting(sim):
    assert signed(sim, "POST", "/v5/position/switch-mode", body={**Q, "mode": 0})["retCode"] == 110025
    assert signed(sim, "POST", "/v5/position/switch-mode", body={**Q, "mode": 3})["retCode"] == 0
    assert sorted(p["positionIdx"] for p in positions(sim, symbol="BTCUSDT")) == [1, 2]
    body = {**Q, "side": "Buy", "orderType": "Market", "qty": "0.010"}
    assert signed(sim, "POST", "/v5/order/create", body=body)["retMsg"] == "position idx not match position mode"
    buy(sim, positionIdx=1)
    assert stop(sim, positionIdx=0, stopLoss=tick(last_price(sim) * Decimal("0.8")))["retCode"] == 10001
    assert stop(sim, positionIdx=1, stopLoss=tick(last_price(sim) * Decimal("0.8")))["retCode"] == 0
    # no switching back while a position is open
    assert signed(sim, "POST", "/v5/position/switch-mode", body={**Q, "mode": 0})["retCode"] == 110024
    held = positions(sim, settleCoin="USDT")
    assert [(p["symbol"], p["positionIdx"], p["side"]) for p in held] == [("BTCUSDT", 1, "Buy")]


def test_account_info_and_api_key_info_exist(sim):
    info = signed(sim, "GET", "/v5/account/info")
    assert info["retCode"] == 0 and info["result"]["unifiedMarginStatus"] == 5
    key = signed(sim, "GET", "/v5/user/query-api")
    assert key["retCode"] == 0 and (key["result"]["apiKey"], key["result"]["uta"]) == (sim.key, 1)
    assert key["result"]["readOnly"] == 0 and key["result"]["permissions"]["ContractTrade"]
