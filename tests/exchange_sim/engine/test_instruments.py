"""Instruments: Bybit's filters for the majors, plausible and stable ones for any other name, and the
filters a recording's decimals imply for the symbols it holds."""

from __future__ import annotations

import json

import pytest

from common.bybit.errors import BybitError
from exchange_sim.engine import Exchange, default_instrument, read_replay, recorded_instruments
from tests.exchange_sim.engine.conftest import T0, D

pytestmark = pytest.mark.unit


def test_majors_have_bybit_filters():
    btc, eth = default_instrument("BTCUSDT"), default_instrument("ETHUSDT")
    assert (btc.tick_size, btc.qty_step, btc.min_qty) == (D("0.10"), D("0.001"), D("0.001"))
    assert btc.price_scale == 2
    assert str(btc.tick_size) == "0.10"
    assert 60_000 <= btc.reference_price <= 100_000
    assert (eth.tick_size, eth.qty_step, eth.min_qty) == (D("0.01"), D("0.01"), D("0.01"))
    assert eth.base_coin == "ETH"


@pytest.mark.parametrize("symbol", ["DOGEUSDT", "PEPEUSDT", "XRPUSDT", "AVAXUSDT", "1000BONKUSDT", "WIFUSDT"])
def test_other_symbols_get_consistent_filters_from_their_name(symbol):
    i = default_instrument(symbol)
    assert i == default_instrument(symbol)
    assert i.base_coin == symbol[:-4] and i.quote_coin == "USDT"
    assert "E" not in str(i.tick_size) + str(i.qty_step) + str(i.max_qty)  # renders as Bybit writes numbers
    assert i.reference_price % i.tick_size == 0
    assert D("0.1") <= i.reference_price * i.min_qty <= D(10_000)
    assert 1000 <= i.reference_price / i.tick_size <= 100_000


def test_non_usdt_symbols_are_refused():
    with pytest.raises(BybitError):
        default_instrument("BTCUSD")


def recording(tmp_path, lines: list[dict]):
    path = tmp_path / "recording.jsonl"
    path.write_text("".join(json.dumps(m) + "\n" for m in lines))
    return [ev for _, ev in read_replay(path)]


def book_line(symbol: str, bids: list, asks: list, u: int = 1) -> dict:
    return {"topic": f"orderbook.50.{symbol}", "type": "snapshot" if u == 1 else "delta", "ts": T0 + u,
            "data": {"s": symbol, "b": bids, "a": asks, "u": u, "seq": u}}


def test_a_recording_gives_unlisted_symbols_the_tick_and_lot_of_its_decimals(tmp_path):
    events = recording(tmp_path, [
        book_line("XRPUSDT", [["0.5123", "1200"]], [["0.5124", "800"]]),
        book_line("PEPEUSDT", [["0.0000123", "5000000"]], [["0.0000124", "7000000"]]),
        book_line("PEPEUSDT", [["0.0000122", "0"]], [["0.0000125", "100"]], u=2),
        book_line("BTCUSDT", [["60000.00", "0.500"]], [["60000.10", "0.300"]]),
        {"topic": "publicTrade.XRPUSDT", "type": "snapshot", "ts": T0 + 3, "data": [
            {"T": T0 + 3, "s": "XRPUSDT", "S": "Buy", "v": "12.5", "p": "0.5124", "L": "PlusTick", "i": "x1"}]},
    ])
    listed = recorded_instruments(events)
    xrp, pepe = listed["XRPUSDT"], listed["PEPEUSDT"]
    assert (xrp.tick_size, xrp.price_scale, xrp.qty_step, xrp.min_qty) == (D("0.0001"), 4, D("0.1"), D("0.1"))
    assert (pepe.tick_size, pepe.price_scale, pepe.qty_step) == (D("0.0000001"), 7, D("1"))
    assert pepe.reference_price == D("0.0000123") and pepe.base_coin == "PEPE"
    assert listed["BTCUSDT"] == default_instrument("BTCUSDT")  # a listed major keeps Bybit's filters


def test_tp_and_sl_keep_the_recorded_precision(tmp_path):
    events = recording(tmp_path, [book_line("PEPEUSDT", [["0.0000123", "90000000"]],
                                            [["0.0000124", "90000000"]])])
    listed = recorded_instruments(events)
    ex = Exchange(symbols=list(listed), balance=D(10_000), instruments=listed)
    for event in events:
        ex.apply(event)
    ex.place_order(symbol="PEPEUSDT", side="Buy", order_type="Market", qty=D("1000000"),
                   take_profit=D("0.0000131"), stop_loss=D("0.0000117"), now_ms=T0)
    p = ex.positions(symbol="PEPEUSDT")[0]
    assert (p.size, p.take_profit, p.stop_loss) == (D("1000000"), D("0.0000131"), D("0.0000117"))
    with pytest.raises(BybitError) as err:
        ex.set_trading_stop(symbol="PEPEUSDT", take_profit=D("0.00001315"), now_ms=T0)
    assert err.value.code == 170134  # finer than the recorded tick


def test_a_recorded_symbol_that_is_no_usdt_perpetual_is_refused(tmp_path):
    events = recording(tmp_path, [book_line("BTCUSD", [["60000.0", "1"]], [["60000.5", "1"]])])
    with pytest.raises(BybitError, match="BTCUSD is not a USDT perpetual"):
        recorded_instruments(events)
