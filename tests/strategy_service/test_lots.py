"""Prices and quantities rounded to the instrument's filters, printed without float noise."""

import pytest

from strategy_service.lots import Lot, fmt, guess

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("value", "step", "text"), [
    (100.123456, 0.01, "100.12"), (65000.06, 0.1, "65000.1"), (0.30000000000000004, 0.1, "0.3"),
    (149.5964, 0.001, "149.596"), (0.76, 0.25, "0.75"), (12.0, 1.0, "12"), (2.6, 0.5, "2.5"),
])
def test_fmt(value, step, text):
    assert fmt(value, step) == text


def test_guess_takes_the_tick_from_the_price_digits():
    assert guess("65000.10", qty_step=0.001, min_qty=0.002) == Lot(tick=0.01, qty_step=0.001, min_qty=0.002)
    assert guess("3", qty_step=1.0, min_qty=1.0).tick == 1.0
