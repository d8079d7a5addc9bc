"""Profiles: named, versioned, validated parameter sets for the strategy (bps, ms, USDT).

A profile is a TOML file `<name>.toml`. The packaged ones live in `strategy_service/profiles/`; a
file of the same name in `<DATA_DIR>/profiles/` overrides it, so an operator edits a copy, bumps its
`version` and hot-reloads it through `sys.control` without a restart.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

DEFAULT_PROFILE = "balanced"

Pos = Annotated[float, Meta(gt=0)]
NonNeg = Annotated[float, Meta(ge=0)]
Pct = Annotated[float, Meta(gt=0, le=100)]
Ms = Annotated[int, Meta(ge=0, le=86_400_000)]
Bars = Annotated[int, Meta(ge=1, le=3600)]


class ProfileError(Exception):
    """A profile that cannot be used; the message names the profile and the offending key."""


class _Section(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class FeatureParams(_Section):
    bar_ms: Annotated[int, Meta(ge=100, le=60_000)] = 1000  # features are computed per bar
    window_bars: Annotated[int, Meta(ge=5, le=3600)] = 60  # z-scores and realised volatility
    momentum_bars: Bars = 10
    pump_bars: Bars = 5
    warmup_bars: Bars = 20  # no signal before this many bars of a symbol
    book_levels: Annotated[int, Meta(ge=1, le=50)] = 5  # levels per side in the book imbalance

    def __post_init__(self) -> None:
        for key in ("momentum_bars", "pump_bars", "warmup_bars"):
            if getattr(self, key) >= self.window_bars:
                raise ValueError(f"features.{key} must be below features.window_bars")


class DetectorParams(_Section):
    pump_bps: Pos = 40.0  # move over pump_bars that counts as a pump (or, negative, a dump)
    pump_volume_z: float = 2.0  # ... together with a volume burst of at least this z-score
    trend_bps: Pos = 15.0  # momentum beyond this is a trend
    volatile_vol_bps: Pos = 12.0  # per-bar realised volatility beyond this is a volatile regime
    illiquid_spread_bps: Pos = 8.0  # a spread wider than this is illiquid
    illiquid_min_trades: NonNeg = 0.5  # ... as is fewer trades per bar than this, on average


class ScoringParams(_Section):
    w_momentum: NonNeg = 1.0
    w_ofi: NonNeg = 0.6
    w_imbalance: NonNeg = 0.4
    w_volume: NonNeg = 0.5
    w_pump: NonNeg = 0.8
    w_regime: NonNeg = 0.7
    watch_score: float = 0.8  # a side scoring this much is worth watching
    entry_score: float = 1.6  # ... and this much is worth an entry
    exit_score: float = -0.4  # a held side scoring below this is closed

    def __post_init__(self) -> None:
        if not self.exit_score < self.watch_score <= self.entry_score:
            raise ValueError("scoring needs exit_score < watch_score <= entry_score")


class TimingParams(_Section):
    watch_timeout_ms: Ms = 30_000  # WATCHING gives up after this long
    armed_timeout_ms: Ms = 10_000  # an entry not filled by then is abandoned
    exit_timeout_ms: Ms = 10_000  # an exit not done by then is sent again
    max_hold_ms: Ms = 300_000  # a position is closed after this long
    cooldown_ms: Ms = 20_000  # rest after a position closes
    stale_after_ms: Annotated[int, Meta(ge=100, le=600_000)] = 5_000  # older market data is stale


class RiskParams(_Section):
    equity_usdt: Pos = 10_000.0  # starting equity; realised PnL and fees move it
    risk_per_trade_pct: Annotated[float, Meta(gt=0, le=5)] = 0.5  # lost if the stop is hit
    max_open_positions: Annotated[int, Meta(ge=1, le=100)] = 3
    max_exposure_pct: Annotated[float, Meta(gt=0, le=1000)] = 150.0  # total notional over equity
    daily_loss_limit_pct: Pct = 3.0  # kill switch until the next UTC day
    max_drawdown_pct: Pct = 8.0  # kill switch from the equity peak, until the operator acts
    max_consecutive_losses: Annotated[int, Meta(ge=1, le=100)] = 3
    loss_cooldown_ms: Ms = 120_000  # no entries for this long after that many losses in a row


class OrderParams(_Section):
    entry_type: Literal["Market", "Limit"] = "Market"
    limit_offset_bps: NonNeg = 2.0  # an IOC limit crosses the touch by this much
    sl_min_bps: Pos = 15.0  # the stop is at least this far ...
    sl_vol_mult: NonNeg = 3.0  # ... or this many bars of realised volatility
    tp_rr: Pos = 1.5  # take profit at this multiple of the stop distance
    qty_step: Pos = 0.001  # lot step when the instrument is not known
    min_qty: Pos = 0.001


# The parameters the worker's daily profile update may tune ("section.key"), each only within the
# [low, high] a profile declares for it in its [tuning] table (README "Worker jobs").
TUNABLE = ("orders.sl_min_bps", "orders.limit_offset_bps", "risk.risk_per_trade_pct")


class Profile(_Section):
    name: Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
    version: Annotated[int, Meta(ge=1)]
    description: str = ""
    features: FeatureParams = FeatureParams()
    detector: DetectorParams = DetectorParams()
    scoring: ScoringParams = ScoringParams()
    timing: TimingParams = TimingParams()
    risk: RiskParams = RiskParams()
    orders: OrderParams = OrderParams()
    # "section.key" -> [low, high]: how far the daily profile update may move a parameter; not used to trade
    tuning: dict[str, tuple[float, float]] = {}

    def __post_init__(self) -> None:
        for key, (low, high) in self.tuning.items():
            if key not in TUNABLE:
                raise ValueError(f"tuning.{key}: not a tunable parameter (tunable: {', '.join(TUNABLE)})")
            if not low <= high:
                raise ValueError(f"tuning.{key}: low {low} above high {high}")


def parse(text: str, *, source: str) -> Profile:
    """A profile from TOML text; raises ProfileError naming `source` and the bad key."""
    try:
        return msgspec.convert(tomllib.loads(text), Profile)
    except tomllib.TOMLDecodeError as e:
        raise ProfileError(f"{source}: not valid TOML: {e}") from None
    except msgspec.ValidationError as e:
        raise ProfileError(f"{source}: {e}") from None


def load(name: str, *, override_dir: Path | None = None, feed_levels: int | None = None) -> Profile:
    """The profile `name`: from override_dir when it has one, else the packaged one. With
    `feed_levels` (the levels per side market.book carries) a profile wanting more is refused: it
    would score live books on fewer levels than a replay gives it."""
    if not name.replace("_", "").replace("-", "").isalnum():
        raise ProfileError(f"{name!r}: not a profile name")
    if override_dir is not None and (path := override_dir / f"{name}.toml").is_file():
        text, source = path.read_text(encoding="utf-8"), str(path)
    else:
        packaged = resources.files("strategy_service") / "profiles" / f"{name}.toml"
        if not packaged.is_file():
            raise ProfileError(f"{name!r}: no such profile (have: {', '.join(available())})")
        text, source = packaged.read_text(encoding="utf-8"), f"profiles/{name}.toml"
    profile = parse(text, source=source)
    if profile.name != name:
        raise ProfileError(f"{source}: declares name {profile.name!r}, expected {name!r}")
    if feed_levels is not None and profile.features.book_levels > feed_levels:
        raise ProfileError(f"{source}: features.book_levels = {profile.features.book_levels} is more than the "
                           f"{feed_levels} levels market.book carries (MARKET_PUBLISH_LEVELS)")
    return profile


def available() -> list[str]:
    folder = resources.files("strategy_service") / "profiles"
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))
