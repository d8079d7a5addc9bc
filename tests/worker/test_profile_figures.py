"""Per-symbol figures from the fills, orders and intents recorded on the bus, against a real Redis."""

from __future__ import annotations

import pytest

from tests.worker.harness import seed_trading
from worker.profile_figures import collect

pytestmark = pytest.mark.service


def test_figures_come_from_the_recorded_fills(redis_server, redis_url):
    client = redis_server.client()
    seed_trading(client)
    figs = collect(client, days=1)["BTCUSDT"]
    assert figs.fills == 24 and figs.fill_ratio == 1.0 and figs.round_trips == 12 and figs.win_rate == 0.0
    assert figs.slippage_bps == pytest.approx(10.0) and figs.spread_bps == 6.0
