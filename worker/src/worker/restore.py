"""Putting a verified backup back: users.db, the state files and the Redis state, each all or nothing.

Run by `scalperctl backup restore ID` while the services are stopped (the CLI refuses otherwise):
a running service would overwrite the restored state or act on a mix of old and new.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import redis

from common import config
from worker import archive, redis_state
from worker.verify import FILES_PART, REDIS_PART, USERS_PART, read_redis, restore_users_db, unpack_files, \
    verify_backup

SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def _replace(src: Path, dst: Path) -> None:
    """Move `src` over `dst` atomically (copied next to it first when on another filesystem)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f"{archive.TMP_PREFIX}{dst.name}")
    shutil.copy2(src, tmp)
    archive.fsync_path(tmp)
    os.replace(tmp, dst)


def restore_backup(path: Path, *, settings: config.Settings, r: redis.Redis) -> dict:
    """Verify the backup, then restore every part; returns what was restored."""
    checks = verify_backup(path)
    manifest = archive.read_manifest(path)
    with tempfile.TemporaryDirectory(prefix="scalper-restore-") as scratch:
        root = Path(scratch)
        if manifest.get("users_db"):
            restore_users_db(path / USERS_PART, root / "users.db")
            for suffix in SQLITE_SIDE_FILES:  # a stale WAL would be replayed into the restored database
                settings.users_db.with_name(settings.users_db.name + suffix).unlink(missing_ok=True)
            _replace(root / "users.db", settings.users_db)
        unpack_files(path / FILES_PART, root / "files")
        restored_files = [p for p in (root / "files").rglob("*") if p.is_file()]
        for p in restored_files:
            _replace(p, settings.data_dir / p.relative_to(root / "files"))
    snap = read_redis(path / REDIS_PART)
    present = {name for name, *_ in snap}
    stale = [k for k in _captured_keys(r) if k not in present]  # created after the backup: not restored state
    if stale:
        r.delete(*stale)
    redis_state.load(r, snap, replace=True)
    return {**checks, "removed_keys": len(stale)}


def _captured_keys(r: redis.Redis) -> list[bytes]:
    names = [k.encode() for k in redis_state.KEYS if r.exists(k)]
    for pattern in redis_state.PATTERNS:
        names.extend(r.scan_iter(match=pattern, count=1000))
    return names
