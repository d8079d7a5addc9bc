"""dashboard.formatting: prices on the tick, sizes on the lot, signed USDT, % and bps with two decimals,
durations with units, UTC times; nothing shown for what is not a number."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dashboard import formatting as fmt

pytestmark = pytest.mark.unit


def test_the_step_is_the_finest_the_exchange_strings_show():
    assert fmt.step_of("65000.10", "65001.5", None, "") == Decimal("0.01")
    assert fmt.step_of("3", "4") == Decimal(1)
    assert fmt.step_of(None, "", 0.5) is None  # floats are not exchange strings


def test_prices_and_sizes_land_on_their_grid_without_float_noise():
    assert fmt.price(0.10000000000582077, tick=Decimal("0.01")) == "0.10"
    assert fmt.price("65000.1", tick=Decimal("0.01")) == "65000.10"
    assert fmt.price(64999.996, tick=Decimal("0.5")) == "65000.0"
    assert fmt.size("0.0100000001", lot=Decimal("0.001")) == "0.010"
    assert fmt.price(0.10000000000582077, tick=None) == "0.1"
    assert fmt.price("n/a", tick=Decimal("0.1")) == fmt.price(None, tick=None) == ""


def test_usdt_has_a_sign_and_two_decimals():
    assert [fmt.usdt(v) for v in ("12.5", -3.0749, 0, "0.004", "1234567.891", None)] == [
        "+12.50", "-3.07", "0.00", "0.00", "+1,234,567.89", ""]


def test_percentages_bps_and_milliseconds_have_two_decimals():
    assert fmt.pct(1.23456) == "1.23 %" and fmt.pct("-0.5", signed=True) == "-0.50 %"
    assert fmt.pct(2, signed=True) == "+2.00 %" and fmt.pct(0, signed=True) == "0.00 %"
    assert fmt.bps(1.5349999) == "1.53 bps" and fmt.ms(0.1) == "0.10 ms"


def test_durations_carry_units():
    assert [fmt.duration(s) for s in (2.54, 45, 200, 7500, 3 * 86_400 + 4 * 3600 + 5, 3600, None)] == [
        "2.5 s", "45 s", "3 min 20 s", "2 h 5 min", "3 d 4 h", "1 h", ""]


def test_times_are_utc_seconds_never_nanoseconds():
    ns = 1_764_979_200_123_456_789  # 2025-12-06 00:00:00.123456789 UTC
    assert fmt.utc(ns) == "2025-12-06 00:00:00" and fmt.iso(ns) == "2025-12-06T00:00:00Z"
    assert fmt.utc(0) == fmt.iso(None) == ""


def test_pnl_colour_follows_the_sign():
    assert [fmt.sign_class(v) for v in ("1", "-0.01", "0", None)] == ["pos", "neg", "", ""]
