"""dashboard.routes.signals: in Chromium, a new signal on strategy.signals shows on the open signals page
with its score, state, profile, reasons and components, without a reload."""

from __future__ import annotations

import re

import pytest
from common.bybit.enums import Side
from common.schemas import Signal, encode, now_ns

from common import constants as c
from tests.browser import ARTIFACTS, needs_chromium
from tests.dashboard.conftest import live_page

pytestmark = [pytest.mark.service, needs_chromium]
UTC_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def test_a_new_signal_shows_without_reload(dashboard, admin_browser, bus):
    from playwright.sync_api import expect

    context, problems = admin_browser
    signals = live_page(context, dashboard.base + "/signals")
    signal_ = Signal(signal_id="sig-live", symbol="BTCUSDT", side=Side.BUY, score=0.75,
                     components={"imbalance": 0.5, "momentum": 0.25}, reasons=["book leans bid"],
                     profile="default", profile_version=3, state="ARMED", exchange_ts_ns=now_ns(),
                     received_ts_ns=now_ns())
    bus.xadd(c.STRATEGY_SIGNALS, {c.PAYLOAD_FIELD: encode(signal_)})
    shown = signals.locator('#signals tr[data-signal="sig-live"] td')
    expect(shown).to_have_text([UTC_TIME, "BTCUSDT", Side.BUY, "0.750", "ARMED", "default v3",
                                "book leans bid", "imbalance=0.500 momentum=0.250"], timeout=10_000)
    expect(signals.locator("#no-signals")).to_be_hidden()
    signals.screenshot(path=str(ARTIFACTS / "live-signals.png"))
    assert problems == []
