"""The pump/dump detector and the regime classifier, both over a bar's feature snapshot."""

from __future__ import annotations

from enum import StrEnum

from strategy_service.features import Snapshot
from strategy_service.profile import DetectorParams


class Regime(StrEnum):
    TREND_UP = "trend_up"
    TREND_DOWN = "trend_down"
    RANGE = "range"
    VOLATILE = "volatile"
    ILLIQUID = "illiquid"


class Burst(StrEnum):
    NONE = "none"
    PUMP = "pump"
    DUMP = "dump"


def burst(s: Snapshot, p: DetectorParams) -> Burst:
    """A pump (dump) is a move of at least pump_bps up (down) over pump_bars with a volume burst."""
    if s.volume_z < p.pump_volume_z:
        return Burst.NONE
    if s.pump_bps >= p.pump_bps:
        return Burst.PUMP
    if s.pump_bps <= -p.pump_bps:
        return Burst.DUMP
    return Burst.NONE


def regime(s: Snapshot, p: DetectorParams) -> Regime:
    """Illiquid before volatile before trend; range when nothing stands out."""
    if s.spread_bps > p.illiquid_spread_bps or s.trades_per_bar < p.illiquid_min_trades:
        return Regime.ILLIQUID
    if s.vol_bps > p.volatile_vol_bps:
        return Regime.VOLATILE
    if s.momentum_bps >= p.trend_bps:
        return Regime.TREND_UP
    if s.momentum_bps <= -p.trend_bps:
        return Regime.TREND_DOWN
    return Regime.RANGE
