"""The weighted score: hand-computed components, their sum, and the reasons that explain them."""

import pytest

from strategy_service import profile, scoring
from strategy_service.detector import Burst, Regime
from tests.strategy_service.test_detector import snap

pytestmark = pytest.mark.unit

BAL = profile.load("balanced")  # weights 1.0 momentum, .6 ofi, .4 imbalance, .5 volume, .8 pump, .7 regime


def test_components_of_a_buy_in_an_uptrend_pump():
    s = snap(momentum_bps=7.5, ofi=2.0, imbalance=0.5, volume_z=1.5, pump_bps=50.0)
    parts = scoring.components(s, side="Buy", reg=Regime.TREND_UP, bst=Burst.PUMP, profile=BAL)
    assert parts == {
        "momentum": 0.5,  # 7.5 / trend_bps 15
        "ofi": 0.6,  # clipped to 1
        "imbalance": 0.2,
        "volume": 0.25,  # z 1.5 / 3, counted because momentum agrees with the side
        "pump": 0.8,
        "regime": 0.7,
    }
    assert scoring.score(parts) == pytest.approx(3.05)


def test_the_sell_side_mirrors_and_ignores_a_pump():
    s = snap(momentum_bps=7.5, ofi=2.0, imbalance=0.5, volume_z=1.5, pump_bps=50.0)
    parts = scoring.components(s, side="Sell", reg=Regime.TREND_UP, bst=Burst.PUMP, profile=BAL)
    assert parts == {"momentum": -0.5, "ofi": -0.6, "imbalance": -0.2, "volume": 0.0, "pump": 0.0,
                     "regime": -0.7}


def test_illiquid_regime_vetoes_both_sides():
    for side in ("Buy", "Sell"):
        parts = scoring.components(snap(), side=side, reg=Regime.ILLIQUID, bst=Burst.NONE, profile=BAL)
        assert parts["regime"] == pytest.approx(-1.4)


def test_reasons_name_each_nonzero_component_largest_first():
    s = snap(momentum_bps=7.5, imbalance=0.5)
    parts = scoring.components(s, side="Buy", reg=Regime.RANGE, bst=Burst.NONE, profile=BAL)
    assert scoring.reasons(s, side="Buy", reg=Regime.RANGE, bst=Burst.NONE, parts=parts) == [
        "Buy: momentum +7.5 bps -> +0.500", "Buy: book imbalance +0.50 -> +0.200"]
