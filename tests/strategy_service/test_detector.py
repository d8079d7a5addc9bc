"""The pump/dump detector and the regime classifier on hand-made snapshots."""

import pytest

from strategy_service.detector import Burst, Regime, burst, regime
from strategy_service.features import Snapshot
from strategy_service.profile import DetectorParams

pytestmark = pytest.mark.unit

P = DetectorParams(pump_bps=40, pump_volume_z=2.0, trend_bps=15, volatile_vol_bps=12,
                   illiquid_spread_bps=8, illiquid_min_trades=0.5)


def snap(**over) -> Snapshot:
    base = dict(bar_end_ms=0, bars=30, price=100.0, ret_bps=0.0, momentum_bps=0.0, pump_bps=0.0, vol_bps=2.0,
                volume_z=0.0, count_z=0.0, trades_per_bar=3.0, spread_bps=1.0, imbalance=0.0, ofi=0.0,
                bid=99.99, ask=100.01)
    return Snapshot(**(base | over))


@pytest.mark.parametrize(("pump_bps", "volume_z", "expected"), [
    (40.0, 2.0, Burst.PUMP),  # both thresholds are inclusive
    (-40.0, 2.0, Burst.DUMP),
    (39.9, 5.0, Burst.NONE),  # not far enough
    (80.0, 1.9, Burst.NONE),  # a move without a volume burst is no pump
    (-80.0, 1.9, Burst.NONE),
])
def test_burst(pump_bps, volume_z, expected):
    assert burst(snap(pump_bps=pump_bps, volume_z=volume_z), P) is expected


@pytest.mark.parametrize(("over", "expected"), [
    ({}, Regime.RANGE),
    ({"momentum_bps": 15.0}, Regime.TREND_UP),
    ({"momentum_bps": -15.0}, Regime.TREND_DOWN),
    ({"momentum_bps": 14.9}, Regime.RANGE),
    ({"vol_bps": 12.1, "momentum_bps": 30.0}, Regime.VOLATILE),  # volatility outranks trend
    ({"spread_bps": 8.1, "vol_bps": 30.0}, Regime.ILLIQUID),  # illiquidity outranks everything
    ({"trades_per_bar": 0.4}, Regime.ILLIQUID),
])
def test_regime(over, expected):
    assert regime(snap(**over), P) is expected
