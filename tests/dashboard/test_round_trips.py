"""dashboard.round_trips: fills on one symbol become round trips (flat -> open -> flat), a flip closes one
trip and opens the next, fees are split by quantity, the entry's signal is named."""

from __future__ import annotations

import pytest
from common.bybit.enums import Side
from common.schemas import FillEvent

from dashboard import round_trips

pytestmark = pytest.mark.unit
S = 1_000_000_000


def fill(side: str, qty: str, price: str, *, t: int, fee: str = "0.1", link: str = "s-BTCUSDT-e-1000",
         symbol: str = "BTCUSDT") -> FillEvent:
    return FillEvent(exec_id=f"x{t}", order_link_id=link, order_id=f"o{t}", symbol=symbol, side=side,
                     price=price, qty=qty, fee=fee, is_maker=False, exchange_ts_ns=t * S, ts_ns=t * S)


def test_a_long_scaled_in_and_out_is_one_trip_with_averages_fees_and_its_signal():
    [trip] = round_trips.build([
        fill(Side.BUY, "0.010", "100.0", t=10),
        fill(Side.BUY, "0.010", "102.0", t=20),
        fill(Side.SELL, "0.020", "105.5", t=200, link="s-BTCUSDT-x-2000"),
    ])
    assert (trip["side"], trip["qty"], trip["entry_price"], trip["exit_price"]) == (Side.BUY, "0.02", "101",
                                                                                      "105.5")
    assert (trip["gross_pnl"], trip["fees"], trip["net_pnl"], trip["outcome"]) == ("0.09", "0.3", "-0.21",
                                                                                   "loss")
    assert trip["signal"] == "BTCUSDT-1000" and trip["holding_s"] == 190 and trip["fills"] == 3
    shown = ("qty", "entry_price", "exit_price", "net_pnl", "fees", "holding")
    assert [trip["display"][k] for k in shown] == [
        "0.020", "101.0", "105.5", "-0.21", "-0.30", "3 min 10 s"]


def test_a_flip_closes_the_short_and_opens_a_long_with_the_rest_and_an_open_trip_is_not_listed():
    trips = round_trips.build([
        fill(Side.SELL, "2", "50", t=1, link="m-abc"),
        fill(Side.BUY, "3", "40", t=2, fee="0.3"),
        fill(Side.SELL, "1", "45", t=3, fee="0", symbol="ETHUSDT"),  # still open: not a round trip
    ])
    [short] = trips
    assert [short[k] for k in ("side", "qty", "net_pnl", "outcome")] == [Side.SELL, "2", "19.7", "win"]
    assert short["fees"] == "0.3" and short["signal"] == "manual"  # 0.1 + two thirds of 0.3
    more = round_trips.build([fill(Side.SELL, "2", "50", t=1, link="m-abc"), fill(Side.BUY, "3", "40", t=2),
                              fill(Side.SELL, "1", "41", t=3, link="s-BTCUSDT-x-3")])
    assert [(t["side"], t["qty"], t["signal"]) for t in more] == [(Side.BUY, "1", "BTCUSDT-1000"),
                                                                 (Side.SELL, "2", "manual")]
