"""Proof that a backup restores: every checksum, SQLite's integrity_check on the restored users.db,
the state files unpacked, and the Redis part loaded into a throwaway redis-server and compared.

Everything is restored into a scratch directory that is removed afterwards; nothing live is touched.
"""

from __future__ import annotations

import gzip
import shutil
import sqlite3
import tarfile
import tempfile
from pathlib import Path

from worker import archive, redis_state

USERS_PART = "users.db.gz"
REDIS_PART = "redis.msgpack.gz"
FILES_PART = "files.tar.gz"


def restore_users_db(part: Path, dst: Path) -> None:
    """Unpack users.db and insist on `PRAGMA integrity_check` = ok."""
    with gzip.open(part, "rb") as f, dst.open("wb") as out:
        shutil.copyfileobj(f, out, 1 << 20)
    db = sqlite3.connect(f"file:{dst}?mode=ro", uri=True)
    try:
        result = db.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as e:
        raise archive.BackupDamaged(f"{part.name}: {e}") from None
    finally:
        db.close()
    if result != [("ok",)]:
        raise archive.BackupDamaged(f"{part.name}: integrity_check says {result[:3]}")


def read_redis(part: Path) -> redis_state.Snapshot:
    try:
        with gzip.open(part, "rb") as f:
            return redis_state.decode(f.read())
    except (OSError, ValueError) as e:
        raise archive.BackupDamaged(f"{part.name}: {e}") from None


def unpack_files(part: Path, dst: Path) -> int:
    """Extract the state files (tar's `data` filter: no absolute paths, links out, or devices)."""
    try:
        with tarfile.open(part, "r:gz") as tar:
            members = tar.getmembers()
            tar.extractall(dst, filter="data")
    except (OSError, tarfile.TarError) as e:
        raise archive.BackupDamaged(f"{part.name}: {e}") from None
    return len(members)


def verify_backup(path: Path, *, redis_server: str = "redis-server") -> dict:
    """Restore the backup at `path` into scratch and check it; returns the figures, raises BackupDamaged."""
    manifest = archive.check(path)
    with tempfile.TemporaryDirectory(prefix="scalper-restore-") as scratch:
        root = Path(scratch)
        if manifest.get("users_db"):
            restore_users_db(path / USERS_PART, root / "users.db")
        files = unpack_files(path / FILES_PART, root / "files")
        if files != manifest["files"]:
            raise archive.BackupDamaged(f"{FILES_PART}: {files} files, the manifest says {manifest['files']}")
        snap = read_redis(path / REDIS_PART)
        try:
            keys = redis_state.verify_in_scratch(snap, redis_server=redis_server)
        except ValueError as e:
            raise archive.BackupDamaged(f"{REDIS_PART}: {e}") from None
    return {"users_db": bool(manifest.get("users_db")), "files": files, "redis_keys": keys}
