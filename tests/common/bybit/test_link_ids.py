"""Every orderLinkId we build fits Bybit's 36 characters, for every listed symbol and every suffix (pure)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.bybit import link_ids
from common.bybit.constants import MAX_ORDER_LINK_ID
from common.manual_order import MANUAL_PREFIX

pytestmark = pytest.mark.unit

# Bybit's longest linear USDT symbols (instruments-info, category=linear) and ordinary ones
LISTED = ["1000000BABYDOGEUSDT", "10000000AIDOGEUSDT", "1000000CHEEMSUSDT", "1000000PEIPEIUSDT",
          "1000000MOGUSDT", "10000WENUSDT", "10000SATSUSDT", "SHIB1000USDT", "1000TURBOUSDT", "BTCUSDT",
          "ETHUSDT", "SOLUSDT", "XRPUSDT"]
SUFFIXES = ("", "-t")  # the post-only fallback's taker order adds "-t"
symbols = st.one_of(st.sampled_from(LISTED), st.from_regex(re.compile(r"[0-9A-Z]{1,28}USDT"), fullmatch=True))
millis = st.integers(min_value=0, max_value=10**14 - 1)  # bar times up to the year 5138


@given(symbol=symbols, kind=st.sampled_from("ex"), ms=millis, suffix=st.sampled_from(SUFFIXES))
def test_every_intent_id_and_its_suffixed_orders_fit(symbol, kind, ms, suffix):
    intent = link_ids.intent_id(prefix="s-", symbol=symbol, kind=kind, ms=ms)
    assert len(intent + suffix) <= MAX_ORDER_LINK_ID
    assert intent.startswith("s-") and intent.endswith(f"-{kind}-{ms}")


def test_a_short_symbol_stays_whole_and_a_long_one_stays_distinct():
    assert link_ids.intent_id(prefix="s-", symbol="BTCUSDT", kind="e", ms=1733400000000) == "s-BTCUSDT-e-1733400000000"
    baby = link_ids.intent_id(prefix="s-", symbol="1000000BABYDOGEUSDT", kind="e", ms=1733400000000)
    assert baby == "s-1000000BABYDOGE-e-1733400000000" and len(baby + "-t") <= 36
    cut = {link_ids.short_symbol(s, 12) for s in LISTED}
    assert len(cut) == len(LISTED)  # shortening never makes two symbols one


def test_manual_ids_fit_too():
    assert len(f"{MANUAL_PREFIX}{'f' * 24}" + "-t") <= MAX_ORDER_LINK_ID
