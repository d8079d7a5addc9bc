"""The retention job: bus streams trimmed by age and length, log archives compressed and expired,
old recovery plans, scenario runs, execution-quality buckets and profile versions pruned. Each policy is
a config key.

A stream is never trimmed past an entry a consumer group still needs: for every group the floor is
its oldest pending (delivered, not acknowledged) entry, or the first entry after its last delivered
one; XTRIM MINID cuts at the lower of the policy's cut and every group's floor.

The alert and audit logs are size-rotated by their writer (the dashboard's RotatingFileHandler, into
`<name>.1`, `.2`, ...); this job takes each rotated file away by an atomic rename (so it never races
the writer's next rotation), gzips it to `<name>.<UTC time>.gz` (temp, fsync, rename), and deletes
archives older than RETENTION_LOG_DAYS.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import redis

from common import config
from common import constants as c
from worker.archive import TMP_PREFIX, fsync_path
from worker.runs import JobResult
from worker.scheduler import HOURLY_GRACE_S, JobContext

# Which setting holds each stream's age limit in hours.
STREAM_AGE_SETTING = {
    c.MARKET_TRADES: "retention_market_h", c.MARKET_BOOK: "retention_market_h",
    c.STRATEGY_SIGNALS: "retention_signals_h",
    c.EXEC_INTENTS: "retention_exec_h", c.EXEC_EVENTS: "retention_exec_h",
    c.SYS_HEALTH: "retention_health_h",
    c.SYS_ALERTS: "retention_sys_h", c.SYS_CONTROL: "retention_sys_h", c.SYS_DLQ: "retention_sys_h",
}
LOG_FILES = ("alert_log.jsonl", "audit.jsonl")  # written by the dashboard (alerts.py, audit.py) in DATA_DIR
_ROTATED = re.compile(r"^(?P<base>.+)\.\d+$")
_OTHER = {  # the other policies, for `scalperctl jobs policies`
    "retention_log_days": ("days", "compressed alert/audit log archives are deleted after this long"),
    "retention_recovery_plans": ("plans", "recovery plans kept (newest first)"),
    "retention_scenario_runs": ("runs", "production-scenario runs kept (newest)"),
    "retention_quality_h": ("hours", "execution-quality buckets older than this are deleted"),
    "retention_profile_versions": ("versions", "profile versions kept per profile (newest), beside every "
                                               "pending one and the newest applied one"),
    "stream_maxlen": ("entries", "every stream's length limit"),
}

StreamId = tuple[int, int]


def parse_id(raw: bytes | str) -> StreamId:
    ms, _, seq = (raw.decode() if isinstance(raw, bytes) else raw).partition("-")
    return int(ms), int(seq or 0)


def policies(settings: config.Settings) -> list[dict]:
    """Every retention policy: its config key, value, unit and meaning."""
    streams_of: dict[str, list[str]] = {}
    for stream, field in STREAM_AGE_SETTING.items():
        streams_of.setdefault(field, []).append(stream)
    rows = [{"key": field.upper(), "value": getattr(settings, field), "unit": "hours", "applies_to": streams,
             "meaning": "entries older than this are trimmed (0: length only), never past an unacked entry"}
            for field, streams in streams_of.items()]
    rows += [{"key": field.upper(), "value": getattr(settings, field), "unit": unit, "applies_to": [],
              "meaning": meaning} for field, (unit, meaning) in _OTHER.items()]
    return rows


def group_floor(r: redis.Redis, stream: str) -> StreamId | None:
    """The lowest id any consumer group of `stream` still needs, or None when no group needs anything."""
    floor: StreamId | None = None
    for group in r.xinfo_groups(stream):
        ms, seq = parse_id(group["last-delivered-id"])
        need = [(ms, seq + 1)]  # everything after the last delivered entry is undelivered
        if group["pending"]:
            need.append(parse_id(r.xpending(stream, group["name"])["min"]))
        low = min(need)
        floor = low if floor is None else min(floor, low)
    return floor


def trim_stream(r: redis.Redis, stream: str, *, max_age_s: float, maxlen: int) -> tuple[int, bool]:
    """Trim one stream by its policy; returns (entries removed, whether a group held the cut back)."""
    length = r.xlen(stream)
    if not length:
        return 0, False
    cut: StreamId = (0, 0)
    if max_age_s > 0:
        cut = (int((time.time() - max_age_s) * 1000), 0)
    if length > maxlen:  # the first entry to keep by length
        first_kept = r.xrange(stream, "-", "+", count=length - maxlen + 1)[-1][0]
        cut = max(cut, parse_id(first_kept))
    floor = group_floor(r, stream)
    held = floor is not None and floor < cut
    if held:
        cut = floor
    if cut == (0, 0):
        return 0, held
    return r.xtrim(stream, minid=f"{cut[0]}-{cut[1]}", approximate=False), held


def compress_rotated_logs(data_dir: Path, *, max_age_s: float) -> tuple[int, int]:
    """gzip rotated alert/audit logs and delete old archives; returns (compressed, deleted)."""
    compressed = deleted = 0
    if not data_dir.is_dir():
        return 0, 0
    for p in sorted(data_dir.iterdir()):
        m = _ROTATED.match(p.name)
        if not (m and m["base"] in LOG_FILES and p.is_file()):
            continue
        stamp = datetime.fromtimestamp(p.stat().st_mtime, UTC).strftime("%Y%m%dT%H%M%SZ")
        taken = p.with_name(f"{TMP_PREFIX}{p.name}.{stamp}")
        os.rename(p, taken)  # ours now: the writer's next rotation cannot touch it
        target = data_dir / f"{m['base']}.{stamp}-{p.name.rsplit('.', 1)[1]}.gz"
        part = target.with_name(f"{TMP_PREFIX}{target.name}")
        with taken.open("rb") as f, gzip.open(part, "wb") as out:
            shutil.copyfileobj(f, out, 1 << 20)
        fsync_path(part)
        os.rename(part, target)
        taken.unlink()
        compressed += 1
    cutoff = time.time() - max_age_s
    for base in LOG_FILES:
        for archive_file in data_dir.glob(f"{base}.*.gz"):
            if archive_file.stat().st_mtime < cutoff:
                archive_file.unlink()
                deleted += 1
    return compressed, deleted


def prune_profile_versions(r: redis.Redis, *, keep: int) -> int:
    """Each profile's versions beyond the newest `keep`, except what an admin can still act on: a pending
    proposal (approve or reject it) and the newest applied version (in force, or the rollback to it)."""
    pruned = 0
    for key in r.scan_iter(match=c.profile_versions_key("*"), count=100):
        records = {int(v): json.loads(raw) for v, raw in r.hgetall(key).items()}
        newest_first = sorted(records, reverse=True)
        applied = [v for v in newest_first if records[v]["status"] == c.ProfileVersionStatus.APPLIED][:1]
        doomed = [v for v in newest_first[keep:]
                  if v not in applied and records[v]["status"] != c.ProfileVersionStatus.PENDING]
        if doomed:
            pruned += r.hdel(key, *map(str, doomed))
    return pruned


def prune_records(r: redis.Redis, settings: config.Settings) -> dict[str, int]:
    """Recovery plans and scenario runs beyond their keep counts, quality buckets beyond their age, and
    profile versions beyond theirs."""
    plans = r.llen(c.EXEC_RECOVERY_KEY)
    r.ltrim(c.EXEC_RECOVERY_KEY, 0, settings.retention_recovery_plans - 1)
    runs = sorted(r.hkeys(c.SCENARIO_RUNS_KEY))  # run ids sort by time
    old_runs = runs[:-settings.retention_scenario_runs]
    if old_runs:
        r.hdel(c.SCENARIO_RUNS_KEY, *old_runs)
    cutoff = time.time() - settings.retention_quality_h * 3600
    old_buckets = [k for k in r.scan_iter(match=c.exec_quality_bucket_key("*", 0)[:-2] + ":*", count=1000)
                   if int(k.rsplit(b":", 1)[1]) < cutoff]
    if old_buckets:
        r.delete(*old_buckets)
    return {"recovery_plans_pruned": max(plans - settings.retention_recovery_plans, 0),
            "scenario_runs_pruned": len(old_runs), "quality_buckets_pruned": len(old_buckets),
            "profile_versions_pruned": prune_profile_versions(r, keep=settings.retention_profile_versions)}


class RetentionJob:
    """Hourly: every bound the platform promises, enforced."""

    name = c.JOB_RETENTION
    grace_s = HOURLY_GRACE_S
    cron_setting = "worker_retention_cron"

    def run(self, ctx: JobContext) -> JobResult:
        s = ctx.settings
        counts = {"trimmed": 0, "streams_held": 0}
        for stream, field in STREAM_AGE_SETTING.items():
            removed, held = trim_stream(ctx.redis, stream, max_age_s=getattr(s, field) * 3600,
                                        maxlen=s.stream_maxlen)
            counts["trimmed"] += removed
            counts["streams_held"] += held
        counts["logs_compressed"], counts["logs_deleted"] = compress_rotated_logs(
            s.data_dir, max_age_s=s.retention_log_days * 86_400)
        counts.update(prune_records(ctx.redis, s))
        return JobResult(counts=counts)
