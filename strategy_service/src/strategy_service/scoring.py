"""The weighted, explainable score of one side of a symbol: every component is kept and named."""

from __future__ import annotations

from common.bybit.enums import Side
from strategy_service.detector import Burst, Regime
from strategy_service.features import Snapshot
from strategy_service.profile import Profile

# The regime's vote for a side: +1 along a trend, -1 against it or when the book is thin.
_REGIME_VOTE = {
    (Regime.TREND_UP, Side.BUY): 1.0, (Regime.TREND_UP, Side.SELL): -1.0,
    (Regime.TREND_DOWN, Side.BUY): -1.0, (Regime.TREND_DOWN, Side.SELL): 1.0,
    (Regime.VOLATILE, Side.BUY): -0.5, (Regime.VOLATILE, Side.SELL): -0.5,
    (Regime.ILLIQUID, Side.BUY): -2.0, (Regime.ILLIQUID, Side.SELL): -2.0,
}


def _clip(x: float) -> float:
    return -1.0 if x < -1.0 else 1.0 if x > 1.0 else x


def components(s: Snapshot, *, side: str, reg: Regime, bst: Burst, profile: Profile) -> dict[str, float]:
    """Each weighted part of the side's score, in [-weight * 2, weight]; their sum is the score."""
    w, d = profile.scoring, profile.detector
    sign = 1.0 if side == Side.BUY else -1.0
    momentum = _clip(s.momentum_bps / d.trend_bps) * sign
    volume = min(max(s.volume_z, 0.0) / 3.0, 1.0) * (1.0 if momentum > 0 else 0.0)
    pump = 1.0 if (bst is Burst.PUMP and sign > 0) or (bst is Burst.DUMP and sign < 0) else 0.0
    return {
        "momentum": round(w.w_momentum * momentum, 6),
        "ofi": round(w.w_ofi * _clip(s.ofi) * sign, 6),
        "imbalance": round(w.w_imbalance * _clip(s.imbalance) * sign, 6),
        "volume": round(w.w_volume * volume, 6),
        "pump": round(w.w_pump * pump, 6),
        "regime": round(w.w_regime * _REGIME_VOTE.get((reg, side), 0.0), 6),
    }


def score(parts: dict[str, float]) -> float:
    return round(sum(parts.values()), 6)


def reasons(s: Snapshot, *, side: str, reg: Regime, bst: Burst, parts: dict[str, float]) -> list[str]:
    """Plain words for the operator: the facts behind each non-zero component, largest first."""
    facts = {
        "momentum": f"momentum {s.momentum_bps:+.1f} bps",
        "ofi": f"order-flow imbalance {s.ofi:+.2f}",
        "imbalance": f"book imbalance {s.imbalance:+.2f}",
        "volume": f"volume z-score {s.volume_z:+.2f}",
        "pump": f"{bst.value} of {s.pump_bps:+.1f} bps",
        "regime": f"regime {reg.value}",
    }
    ranked = sorted((k for k, v in parts.items() if v), key=lambda k: (-abs(parts[k]), k))
    return [f"{side}: {facts[k]} -> {parts[k]:+.3f}" for k in ranked]
