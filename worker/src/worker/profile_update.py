"""The daily profile update: figures of the last PROFILE_LOOKBACK_DAYS -> a proposed profile version.

The active profile (STRATEGY_PROFILE_KEY) is read as the strategy reads it: `DATA_DIR/profiles/<name>.toml`
when the operator (or an applied update) put one there, else the packaged file. A few parameters are
tuned, each by a rule on the figures, at most MAX_STEP of its value per update and within the bounds the
profile declares in its `[tuning]` table ("section.key" = [low, high]; a profile without one gets
DEFAULT_BOUNDS, and a parameter it leaves out of its table is not tuned):
- `orders.sl_min_bps` rises to 3 spreads plus the median slippage, so a stop is not inside the noise;
- `orders.limit_offset_bps` (limit entries) widens when under half the orders fill, narrows above 95 %;
- `risk.risk_per_trade_pct` shrinks below a 35 % win rate and grows above 60 % (20 round trips at least).

A proposal is a new version in `profile_versions_key(name)` (HSETNX: a version is never overwritten)
with the full parameters, the diff and the figures behind it; the version it was made from is kept
there too (as `applied`), so an admin can always roll back to it. With PROFILE_AUTO_APPLY it is applied
at once: written to `DATA_DIR/profiles/<name>.toml` (temp, fsync, rename) and switched to through a
`set_profile` command, which the strategy validates before use (at its next bar); else it stays
`pending` until an admin decides on the dashboard's profiles page (`decide`, a PROFILE_DECISION command).
"""

from __future__ import annotations

import importlib.util
import json
import os
import time
import tomllib
import uuid
from pathlib import Path

import redis

from common import config
from common import constants as c
from common.schemas import Command, ControlCommand, encode, now_ns
from worker import profile_figures
from worker.archive import TMP_PREFIX, fsync_path
from worker.runs import JobResult
from worker.scheduler import DAILY_GRACE_S, JobContext

DEFAULT_PROFILE = "balanced"  # the strategy's default when STRATEGY_PROFILE_KEY is unset
MAX_STEP = 0.25  # a parameter moves by at most this fraction of its value per update
MIN_FILLS = 10  # a symbol with fewer fills says nothing yet
MIN_ROUND_TRIPS = 20
DEFAULT_BOUNDS = {  # "section.key" -> (low, high): inside the strategy's schema limits, on purpose narrower
    "orders.sl_min_bps": (5.0, 200.0),
    "orders.limit_offset_bps": (0.0, 20.0),
    "risk.risk_per_trade_pct": (0.05, 2.0),
}


def bounds_of(params: dict) -> dict[str, tuple[float, float]]:
    """The tuning bounds the profile declares (its [tuning] table), else DEFAULT_BOUNDS."""
    declared = params.get("tuning")
    return {k: (float(v[0]), float(v[1])) for k, v in declared.items()} if declared else DEFAULT_BOUNDS


def packaged_dir() -> Path | None:
    """The strategy's packaged profiles, located without importing (and so running) its code."""
    spec = importlib.util.find_spec("strategy_service")
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]) / "profiles" if locations else None


def active_profile(r: redis.Redis, settings: config.Settings) -> tuple[str, dict]:
    name = (r.get(c.STRATEGY_PROFILE_KEY) or DEFAULT_PROFILE.encode()).decode()
    for folder in (settings.data_dir / "profiles", packaged_dir()):
        if folder is not None and (path := folder / f"{name}.toml").is_file():
            return name, tomllib.loads(path.read_text(encoding="utf-8"))
    raise FileNotFoundError(f"profile {name!r}: no {name}.toml in DATA_DIR/profiles or the strategy's package")


def _clip(bounds: tuple[float, float], current: float, wanted: float) -> float:
    low, high = bounds
    step = abs(current) * MAX_STEP or MAX_STEP
    return round(min(max(wanted, current - step, low), current + step, high), 4)


def propose(params: dict, figures: dict[str, profile_figures.SymbolFigures]) -> dict[str, list]:
    """The changed parameters as {"section.key": [old, new]}; empty when nothing should move."""
    busy = [f for f in figures.values() if f.fills >= MIN_FILLS]
    wanted: dict[tuple[str, str], float] = {}
    orders, risk = params.get("orders", {}), params.get("risk", {})
    spreads = [f.spread_bps for f in busy if f.spread_bps is not None]
    slips = [f.slippage_bps for f in busy if f.slippage_bps is not None]
    if spreads:
        need = 3 * sorted(spreads)[len(spreads) // 2] + max(sorted(slips)[len(slips) // 2] if slips else 0.0, 0.0)
        if orders.get("sl_min_bps", 15.0) < need:
            wanted["orders", "sl_min_bps"] = need
    ratios = [f.fill_ratio for f in busy if f.fill_ratio is not None]
    if ratios and orders.get("entry_type", "Market") == "Limit":
        ratio, offset = sorted(ratios)[len(ratios) // 2], orders.get("limit_offset_bps", 2.0)
        if ratio < 0.5:
            wanted["orders", "limit_offset_bps"] = offset * 1.25
        elif ratio > 0.95:
            wanted["orders", "limit_offset_bps"] = offset * 0.9
    trips = sum(f.round_trips for f in figures.values())
    if trips >= MIN_ROUND_TRIPS:
        win = sum((f.win_rate or 0) * f.round_trips for f in figures.values()) / trips
        pct = risk.get("risk_per_trade_pct", 0.5)
        if win < 0.35:
            wanted["risk", "risk_per_trade_pct"] = pct * 0.8
        elif win > 0.6:
            wanted["risk", "risk_per_trade_pct"] = pct * 1.1
    diff, bounds = {}, bounds_of(params)
    for (section, key), value in wanted.items():
        if f"{section}.{key}" not in bounds:
            continue  # the profile does not let this one be tuned
        current = float(params.get(section, {}).get(key, value))
        new = _clip(bounds[f"{section}.{key}"], current, value)
        if new != current:
            diff[f"{section}.{key}"] = [current, new]
    return diff


def to_toml(params: dict) -> str:
    """A profile as TOML: top-level scalars, then one table per section (all a profile holds)."""
    def value(v) -> str:
        return json.dumps(v) if isinstance(v, (str, bool)) else repr(v)

    def key(k: str) -> str:  # [tuning]'s "section.key" names need quotes, or TOML reads them as nested tables
        return k if k.replace("_", "").replace("-", "").isalnum() else json.dumps(k)
    lines = [f"{key(k)} = {value(v)}" for k, v in params.items() if not isinstance(v, dict)]
    for section, table in params.items():
        if isinstance(table, dict):
            lines += ["", f"[{section}]", *(f"{key(k)} = {value(v)}" for k, v in table.items())]
    return "\n".join(lines) + "\n"


def write_profile(folder: Path, name: str, params: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.toml"
    tmp = folder / f"{TMP_PREFIX}{name}.toml"
    tmp.write_text(to_toml(params), encoding="utf-8")
    fsync_path(tmp)
    os.replace(tmp, target)
    return target


def next_version(r: redis.Redis, name: str, params: dict) -> int:
    stored = [int(v) for v in r.hkeys(c.profile_versions_key(name))]
    return max([int(params.get("version", 1)), *stored]) + 1


def apply_version(r: redis.Redis, *, settings: config.Settings, name: str, record: dict) -> None:
    """Put a version in force: the profile file, the record's status, then `set_profile` to the strategy."""
    write_profile(settings.data_dir / "profiles", name, record["params"])
    record.update(status=c.ProfileVersionStatus.APPLIED, applied_ts=time.time())
    r.hset(c.profile_versions_key(name), str(record["version"]), json.dumps(record))
    cmd = ControlCommand(command_id=uuid.uuid4().hex, command=Command.SET_PROFILE, target=c.STRATEGY,
                         args={"profile": name}, issued_by=f"{c.WORKER}:{c.JOB_PROFILE}", ts_ns=now_ns())
    r.xadd(c.SYS_CONTROL, {c.PAYLOAD_FIELD: encode(cmd)}, maxlen=settings.stream_maxlen, approximate=True)


class ProfileJob:
    """Daily: measure, propose a new version, apply it only when configured to."""

    name = c.JOB_PROFILE
    grace_s = DAILY_GRACE_S
    cron_setting = "worker_profile_cron"

    def run(self, ctx: JobContext) -> JobResult:
        s, r = ctx.settings, ctx.redis
        figures = profile_figures.collect(r, days=s.profile_lookback_days)
        name, params = active_profile(r, s)
        diff = propose(params, figures)
        counts = {"symbols": len(figures), "fills": sum(f.fills for f in figures.values()), "changes": len(diff)}
        if not diff:
            return JobResult(counts=counts, detail={"profile": name, "proposal": "none"})
        version = next_version(r, name, params)
        new = {section: dict(table) if isinstance(table, dict) else table for section, table in params.items()}
        new["version"] = version
        for path, (_old, value) in diff.items():
            section, key = path.split(".")
            new.setdefault(section, {})[key] = value
        record = {"profile": name, "version": version, "base_version": params.get("version"),
                  "status": c.ProfileVersionStatus.PENDING, "created_ts": time.time(), "params": new,
                  "diff": diff,
                  "figures": {sym: f.public() for sym, f in figures.items()},
                  "lookback_days": s.profile_lookback_days}
        base = {"profile": name, "version": int(params.get("version", 1)), "base_version": None,
                "status": c.ProfileVersionStatus.APPLIED, "created_ts": time.time(), "params": params,
                "diff": {}, "figures": {}, "lookback_days": None}
        r.hsetnx(c.profile_versions_key(name), str(base["version"]), json.dumps(base))  # kept for a rollback
        if not r.hsetnx(c.profile_versions_key(name), str(version), json.dumps(record)):
            raise RuntimeError(f"profile {name} version {version} exists already (a concurrent proposal?)")
        if s.profile_auto_apply:
            apply_version(r, settings=s, name=name, record=record)
        return JobResult(counts=counts, detail={"profile": name, "version": str(version),
                                                "status": record["status"]})


class DecisionRefused(ValueError):
    """A decision the version's status does not allow, or on a version that does not exist."""


def decide(r: redis.Redis, *, settings: config.Settings, name: str, version: str, decision: c.ProfileDecision,
           by: str) -> dict:
    """Carry out an admin's decision on a version: approve or roll back applies it, reject sets it aside.
    Returns the updated record; DecisionRefused when its status does not allow the decision."""
    raw = r.hget(c.profile_versions_key(name), version)
    if raw is None:
        raise DecisionRefused(f"profile {name} has no version {version}")
    record = json.loads(raw)
    if record["status"] != c.DECISION_NEEDS[decision]:
        raise DecisionRefused(f"profile {name} version {version} is {record['status']}: "
                              f"cannot {decision.value}")
    record.update(decided_by=by, decision=decision.value, decided_ts=time.time())
    if decision is c.ProfileDecision.REJECT:
        record["status"] = c.ProfileVersionStatus.REJECTED
        r.hset(c.profile_versions_key(name), version, json.dumps(record))
    else:
        apply_version(r, settings=settings, name=name, record=record)
    return record
