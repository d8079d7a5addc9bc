"""Default instruments: Bybit's filters for the majors, plausible and stable ones for any other name."""

from __future__ import annotations

import pytest

from exchange_sim.engine import ExchangeError, default_instrument
from tests.exchange_sim.engine.conftest import D


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
    with pytest.raises(ExchangeError):
        default_instrument("BTCUSD")
