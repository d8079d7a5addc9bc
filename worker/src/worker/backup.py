"""The backup job: users.db, profiles, config versions, DATA_DIR state files and the Redis state.

Each part is written compressed into a new backup directory (archive.Building: temp name, fsync,
rename), then the backup is proved by a restore into a scratch directory (verify.verify_backup),
rotated (daily/weekly/monthly keep counts) and copied to BACKUP_COPY_DIR when one is set. A backup
that fails its proof is removed and the run fails, so every finished backup has been restored once.

`users.db` is read through SQLite's online backup API (`Connection.backup`), which copies a
consistent snapshot page by page while the dashboard keeps writing; a file copy could tear a page.
"""

from __future__ import annotations

import gzip
import json
import logging
import shutil
import sqlite3
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from common import config
from common import constants as c
from worker import archive, metrics, redis_state
from worker.runs import JobResult
from worker.scheduler import DAILY_GRACE_S, JobContext
from worker.verify import FILES_PART, REDIS_PART, USERS_PART, verify_backup

log = logging.getLogger(__name__)

PROFILES_DIR = "profiles"
GZIP_LEVEL = 6  # zlib's default: most of level 9's ratio at a fraction of its time
# Top-level DATA_DIR files that are not state to restore: the live database (taken through the
# backup API instead) and its journals.
SKIP_SUFFIXES = ("-wal", "-shm", "-journal", ".tmp")


def backup_root(settings: config.Settings) -> Path:
    return (Path(settings.backup_dir) if settings.backup_dir else settings.data_dir / "backups").resolve()


def _gzip_file(src: Path, dst: Path) -> None:
    with src.open("rb") as f, gzip.open(dst, "wb", compresslevel=GZIP_LEVEL) as out:
        shutil.copyfileobj(f, out, 1 << 20)


def _users_db(settings: config.Settings, dst: Path) -> bool:
    """users.db through the online backup API, gzipped into `dst`; False when there is no database."""
    src_path = settings.users_db
    if not src_path.is_file():
        return False
    with tempfile.TemporaryDirectory(prefix="scalper-backup-") as tmp:
        copy = Path(tmp) / "users.db"
        src = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True)
        dst_db = sqlite3.connect(copy)
        try:
            src.backup(dst_db)
        finally:
            dst_db.close()
            src.close()
        _gzip_file(copy, dst)
    return True


def state_files(settings: config.Settings) -> list[Path]:
    """DATA_DIR's state files: its top-level files (config versions, alert and audit logs, session key,
    ...) except the database and temporaries, and the profile overrides under `profiles/`."""
    data = settings.data_dir
    users = settings.users_db.resolve()
    files = [p for p in sorted(data.iterdir()) if p.is_file() and p.resolve() != users
             and not p.name.endswith(SKIP_SUFFIXES) and not p.name.startswith(archive.TMP_PREFIX)
             and not p.name.startswith(users.name)] if data.is_dir() else []
    profiles = data / PROFILES_DIR
    if profiles.is_dir():
        files += sorted(p for p in profiles.rglob("*") if p.is_file())
    return files


def _files(settings: config.Settings, dst: Path) -> int:
    files = state_files(settings)
    with tarfile.open(dst, "w:gz", compresslevel=GZIP_LEVEL) as tar:
        for p in files:
            tar.add(p, arcname=str(p.relative_to(settings.data_dir)), recursive=False)
    return len(files)


def _redis(ctx: JobContext, dst: Path) -> int:
    snap = redis_state.capture(ctx.redis)
    with gzip.open(dst, "wb", compresslevel=GZIP_LEVEL) as out:
        out.write(redis_state.encode(snap))
    return len(snap)


def make_backup(ctx: JobContext) -> tuple[Path, dict]:
    """Write one backup and prove it by a restore; returns its path and the verification figures."""
    root = backup_root(ctx.settings)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    for stale in root.glob(f"{archive.TMP_PREFIX}*"):  # what a run killed with -9 left
        shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)
    building = archive.Building(root, archive.new_id()).open()
    try:
        has_db = _users_db(ctx.settings, building.tmp / USERS_PART)
        files = _files(ctx.settings, building.tmp / FILES_PART)
        keys = _redis(ctx, building.tmp / REDIS_PART)
        building.write_manifest({"users_db": has_db, "files": files, "redis_keys": keys,
                                 "data_dir": str(ctx.settings.data_dir.resolve())})
        checks = verify_backup(building.tmp)
        path = building.commit()
    except BaseException:
        building.discard()
        raise
    archive.mark_verified(root, building.backup_id, checks)
    return path, checks


def keep_ids(ids: list[str], *, daily: int, weekly: int, monthly: int) -> set[str]:
    """Grandfather-father-son: the newest backup of each of the last `daily` days, `weekly` ISO weeks
    and `monthly` months, and always the newest of all."""
    keep: set[str] = set(ids[-1:])
    for count, period in ((daily, "%Y-%m-%d"), (weekly, "%G-W%V"), (monthly, "%Y-%m")):
        newest_per: dict[str, str] = {}
        for backup_id in ids:  # oldest first: a later one of the same period wins
            stamp = datetime.fromtimestamp(archive.created_ts(backup_id), UTC).strftime(period)
            newest_per[stamp] = backup_id
        keep.update(sorted(newest_per.values())[-count:] if count else [])
    return keep


def rotate(root: Path, settings: config.Settings) -> int:
    """Remove backups beyond the keep counts; returns how many went."""
    ids = archive.list_ids(root)
    keep = keep_ids(ids, daily=settings.backup_keep_daily, weekly=settings.backup_keep_weekly,
                    monthly=settings.backup_keep_monthly)
    gone = [i for i in ids if i not in keep]
    for backup_id in gone:
        archive.remove(root, backup_id)
    return len(gone)


def listing(root: Path) -> list[dict]:
    """The finished backups under `root`, newest first: id, path, created_ts, size (bytes), verified_ts
    (when a restore of it last proved good, null when none has)."""
    rows = []
    for backup_id in reversed(archive.list_ids(root)):
        proof = archive.verified(root, backup_id)
        path = root / backup_id
        rows.append({"id": backup_id, "path": str(path), "created_ts": archive.created_ts(backup_id),
                     "size": archive.du(path), "verified_ts": proof["ts"] if proof else None})
    return rows


def publish_verified(rows: list[dict]) -> None:
    """The newest verified backup's time (of a `listing`) as the gauge Prometheus alerts on; at start too,
    so a worker restart does not reset the backup's age."""
    stamps = [row["verified_ts"] for row in rows if row["verified_ts"]]
    if stamps:
        metrics.BACKUP_LAST_VERIFIED.set(max(stamps))


def copy_to(path: Path, target_root: Path) -> Path:
    """Copy a finished backup to a second location the same all-or-nothing way (temp, fsync, rename)."""
    target_root.mkdir(parents=True, exist_ok=True, mode=0o700)
    building = archive.Building(target_root, path.name)
    shutil.rmtree(building.tmp, ignore_errors=True)
    shutil.copytree(path, building.tmp)
    if archive.sha256_file(building.tmp / archive.MANIFEST) != archive.sha256_file(path / archive.MANIFEST):
        raise OSError(f"copy of {path.name} to {target_root} differs")
    archive.check(building.tmp)
    return building.commit()


class BackupJob:
    """Daily backup with a proved restore."""

    name = c.JOB_BACKUP
    grace_s = DAILY_GRACE_S
    cron_setting = "worker_backup_cron"

    def run(self, ctx: JobContext) -> JobResult:
        path, checks = make_backup(ctx)
        size = archive.du(path)
        metrics.BACKUP_BYTES.set(size)
        root = path.parent
        rotated = rotate(root, ctx.settings)
        rows = listing(root)
        ctx.redis.set(c.WORKER_BACKUPS_KEY, json.dumps(rows))
        publish_verified(rows)
        counts = {"redis_keys": checks["redis_keys"], "files": checks["files"], "rotated": rotated}
        detail = {"id": path.name, "path": str(path), "root": str(root)}
        if ctx.settings.backup_copy_dir:
            copy_root = Path(ctx.settings.backup_copy_dir).resolve()
            detail["copy"] = str(copy_to(path, copy_root))
            counts["copy_rotated"] = rotate(copy_root, ctx.settings)
        return JobResult(counts=counts, bytes=size, detail=detail)
