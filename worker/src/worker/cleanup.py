"""The cleanup job: dead consumers out of consumer groups, temporary files, old release directories.

A consumer is dead when it has been idle longer than CLEANUP_CONSUMER_IDLE_S and its process shows
no life: consumers are named `<service>@<host>` (common.lifecycle), so it is alive while that
service's heartbeat key exists and the host is this one (the platform runs on one host). A live
consumer XAUTOCLAIMs stale entries within CLAIM_MIN_IDLE_MS, so a dead consumer still holding
entries after the idle threshold has no one to hand them to: they are dead-lettered to sys.dlq (with
an alert), acknowledged, and only then is the consumer deleted (XGROUP DELCONSUMER drops its pending).
"""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path

import redis

from common import config
from common import constants as c
from common.schemas import Alert, DeadLetter, Severity, encode, now_ns
from worker.archive import TMP_PREFIX
from worker.runs import JobResult
from worker.scheduler import HOURLY_GRACE_S, JobContext

TMP_SUFFIXES = (".tmp", ".part")
CURRENT_LINK = "current"  # the release the deploy points at: never removed


def consumer_alive(r: redis.Redis, consumer: str, *, host: str) -> bool:
    service, _, consumer_host = consumer.partition("@")
    return consumer_host == host and bool(r.exists(c.heartbeat_key(service)))


def _dead_letter(r: redis.Redis, *, stream: str, group: str, consumer: str) -> int:
    """Send a dead consumer's pending entries to sys.dlq and ack them; returns how many."""
    moved = 0
    while pending := r.xpending_range(stream, group, min="-", max="+", count=500, consumername=consumer):
        ids = [p["message_id"] for p in pending]
        entries = dict(r.xrange(stream, ids[0], ids[-1]))
        with r.pipeline(transaction=True) as pipe:
            for entry_id in ids:
                raw = (entries.get(entry_id) or {}).get(c.PAYLOAD_FIELD, b"")
                letter = DeadLetter(stream=stream, entry_id=entry_id.decode(), group=group, consumer=consumer,
                                    error="consumer died before acknowledging", raw=raw, ts_ns=now_ns())
                pipe.xadd(c.SYS_DLQ, {c.PAYLOAD_FIELD: encode(letter)})
            pipe.xack(stream, group, *ids)
            pipe.execute()
        moved += len(ids)
    if moved:
        alert = Alert(key=f"dlq:{stream}", severity=Severity.WARN, source=c.WORKER,
                      title=f"{moved} entries of dead consumer {consumer} on {stream} sent to {c.SYS_DLQ}",
                      ts_ns=now_ns())
        r.xadd(c.SYS_ALERTS, {c.PAYLOAD_FIELD: encode(alert)})
    return moved


def remove_dead_consumers(r: redis.Redis, *, idle_s: float, host: str) -> tuple[int, int]:
    """Returns (consumers removed, entries dead-lettered) over every group of every stream."""
    removed = lettered = 0
    for stream in c.ALL_STREAMS:
        if not r.exists(stream):
            continue
        for group in r.xinfo_groups(stream):
            gname = group["name"].decode()
            for cons in r.xinfo_consumers(stream, gname):
                name = cons["name"].decode()
                if cons["idle"] < idle_s * 1000 or consumer_alive(r, name, host=host):
                    continue
                if cons["pending"]:
                    lettered += _dead_letter(r, stream=stream, group=gname, consumer=name)
                r.xgroup_delconsumer(stream, gname, name)
                removed += 1
    return removed, lettered


def remove_tmp_files(data_dir: Path, *, older_than_s: float) -> int:
    """Temporaries left in DATA_DIR (and its backup directory) by runs that were killed."""
    if not data_dir.is_dir():
        return 0
    cutoff, removed = time.time() - older_than_s, 0
    for p in list(data_dir.rglob(f"{TMP_PREFIX}*")) + [q for s in TMP_SUFFIXES for q in data_dir.rglob(f"*{s}")]:
        try:
            if p.lstat().st_mtime >= cutoff:
                continue
            shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
            removed += 1
        except FileNotFoundError:  # inside a directory removed a moment ago
            continue
    return removed


def remove_old_releases(releases: Path, *, keep: int) -> int:
    """Release directories beyond the newest `keep` (by mtime), never the one `current` points at."""
    if not releases.is_dir():
        return 0
    current = (releases / CURRENT_LINK).resolve() if (releases / CURRENT_LINK).exists() else None
    dirs = sorted((p for p in releases.iterdir() if p.is_dir() and not p.is_symlink()),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    old = [p for p in dirs[keep:] if p.resolve() != current]
    for p in old:
        shutil.rmtree(p)
    return len(old)


class CleanupJob:
    """Hourly: what crashed processes and old deploys leave behind."""

    name = c.JOB_CLEANUP
    grace_s = HOURLY_GRACE_S
    cron_setting = "worker_cleanup_cron"

    def run(self, ctx: JobContext) -> JobResult:
        s: config.Settings = ctx.settings
        consumers, lettered = remove_dead_consumers(ctx.redis, idle_s=s.cleanup_consumer_idle_s,
                                                    host=socket.gethostname())
        return JobResult(counts={
            "consumers_removed": consumers, "entries_dead_lettered": lettered,
            "tmp_files_removed": remove_tmp_files(s.data_dir, older_than_s=s.cleanup_tmp_age_s),
            "releases_removed": remove_old_releases(Path(s.releases_dir), keep=s.releases_keep) if s.releases_dir
            else 0,
        })
