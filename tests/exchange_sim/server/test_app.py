"""Unmodified pybit against the simulator: REST trading and queries, public and private streams."""

from __future__ import annotations

from decimal import Decimal

import pybit.unified_trading as ut
import pytest
from pybit.exceptions import InvalidRequestError

from tests.support import wait_until

pytestmark = pytest.mark.service


def http(sim, secret=None):
    session = ut.HTTP(api_key=sim.key, api_secret=secret or sim.secret, max_retries=1)
    session.endpoint = sim.rest  # pybit builds https://api.bybit.com; point it at the simulator
    return session


def test_pybit_trades_and_queries(sim):
    s = http(sim)
    last = Decimal(s.get_tickers(category="linear", symbol="BTCUSDT")["result"]["list"][0]["lastPrice"])
    far = str((last * Decimal("0.9")).quantize(Decimal("0.1")))
    placed = s.place_order(category="linear", symbol="BTCUSDT", side="Buy", orderType="Limit", qty="0.010",
                           price=far, orderLinkId="pybit-1")
    assert placed["retCode"] == 0 and placed["result"]["orderLinkId"] == "pybit-1"
    s.amend_order(category="linear", symbol="BTCUSDT", orderLinkId="pybit-1", qty="0.020")
    open_ = s.get_open_orders(category="linear", settleCoin="USDT")["result"]["list"]
    assert [(o["orderLinkId"], o["qty"], o["orderStatus"]) for o in open_] == [("pybit-1", "0.020", "New")]
    with pytest.raises(InvalidRequestError) as dup:
        s.place_order(category="linear", symbol="BTCUSDT", side="Buy", orderType="Limit", qty="0.010",
                      price=far, orderLinkId="pybit-1")
    assert dup.value.status_code == 110072
    s.cancel_order(category="linear", symbol="BTCUSDT", orderLinkId="pybit-1")
    # order history lags behind the live state, as Bybit's does: pybit sees the cancel there a moment later
    wait_until(lambda: [o["orderStatus"] for o in s.get_order_history(category="linear", symbol="BTCUSDT")[
        "result"]["list"]] == ["Cancelled"], timeout=10, what="the cancelled order in the order history")

    s.set_leverage(category="linear", symbol="ETHUSDT", buyLeverage="5", sellLeverage="5")
    s.place_order(category="linear", symbol="ETHUSDT", side="Sell", orderType="Market", qty="1.00")
    pos = s.get_positions(category="linear", settleCoin="USDT")["result"]["list"]
    eth = next(p for p in pos if p["symbol"] == "ETHUSDT")
    assert (eth["side"], eth["size"], eth["leverage"]) == ("Sell", "1.00", "5")
    entry = Decimal(eth["avgPrice"])
    tp, sl = str((entry * Decimal("0.95")).quantize(Decimal("0.01"))), str((entry * Decimal("1.05")).quantize(
        Decimal("0.01")))
    s.set_trading_stop(category="linear", symbol="ETHUSDT", takeProfit=tp, stopLoss=sl, positionIdx=0)
    eth = s.get_positions(category="linear", symbol="ETHUSDT")["result"]["list"][0]
    assert (eth["takeProfit"], eth["stopLoss"]) == (tp, sl)
    fills = s.get_executions(category="linear", symbol="ETHUSDT")["result"]["list"]
    assert fills and fills[0]["side"] == "Sell" and fills[0]["isMaker"] is False
    wallet = s.get_wallet_balance(accountType="UNIFIED")["result"]["list"][0]
    assert Decimal(wallet["totalWalletBalance"]) < Decimal("100000")  # the taker fee was paid


def test_pybit_wrong_secret_gets_10004(sim):
    with pytest.raises(InvalidRequestError) as err:
        http(sim, secret="not-the-secret").get_positions(category="linear", settleCoin="USDT")
    assert err.value.status_code == 10004


def test_pybit_streams_books_trades_and_private_events(sim, monkeypatch):
    monkeypatch.setattr(ut, "PUBLIC_WSS", sim.ws_public)  # pybit formats wss://stream.bybit.com/...; not here
    monkeypatch.setattr(ut, "PRIVATE_WSS", sim.ws_private)
    public = ut.WebSocket(channel_type="linear", testnet=False)
    private = ut.WebSocket(channel_type="private", testnet=False, api_key=sim.key, api_secret=sim.secret)
    got: dict[str, list] = {"book": [], "trade": [], "order": [], "execution": [], "position": [],
                            "wallet": []}
    try:
        public.orderbook_stream(50, "BTCUSDT", got["book"].append)
        public.trade_stream("BTCUSDT", got["trade"].append)
        private.order_stream(got["order"].append)
        private.execution_stream(got["execution"].append)
        private.position_stream(got["position"].append)
        private.wallet_stream(got["wallet"].append)
        wait_until(lambda: len(got["book"]) > 3 and got["trade"], timeout=20, what="books and trades")
        book = got["book"][-1]["data"]  # pybit's own merged book from our snapshot + deltas
        assert book["s"] == "BTCUSDT" and len(book["b"]) > 0 and len(book["a"]) > 0
        assert float(book["b"][0][0]) < float(book["a"][0][0]) or len(book["b"]) > 1
        wait_until(lambda: private.auth, timeout=10, what="private auth")
        http(sim).place_order(category="linear", symbol="BTCUSDT", side="Buy", orderType="Market",
                              qty="0.005",
                              orderLinkId="ws-1")
        wait_until(lambda: all(got[k] for k in ("order", "execution", "position", "wallet")), timeout=20,
                   what="order, execution, position and wallet events")
        assert any(o["orderLinkId"] == "ws-1" for m in got["order"] for o in m["data"])
        assert got["position"][-1]["data"][0]["side"] == "Buy"
    finally:
        public.exit()
        private.exit()
