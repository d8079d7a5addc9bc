"""A backup on disk: a directory of compressed parts and a manifest of their SHA-256 checksums.

Layout of `<backup_dir>/<id>/`: the parts (`users.db.gz`, `redis.msgpack.gz`, `files.tar.gz`),
`manifest.json` (id, created, each part's size and sha256) and `manifest.sha256` (the manifest's
own checksum), so one flipped byte in any file of a backup fails `check()`.

A backup is built under `<backup_dir>/.tmp-<id>/`, every file and the directory fsynced, then renamed
to `<id>` and the parent fsynced: a run killed with -9 leaves at most a `.tmp-*` directory, which
`list_ids()` ignores and the next run removes; a finished backup is never half-written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.sha256"
VERIFIED_SUFFIX = ".verified.json"  # beside the backup directory: when a restore of it last proved good
TMP_PREFIX = ".tmp-"
ID_RE = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{4}$")
_CHUNK = 1 << 20


class BackupDamaged(Exception):
    """A backup that cannot be trusted; the message says which file and why."""


def new_id(now: float | None = None) -> str:
    """A sortable id: UTC time of creation plus 4 random hex digits (two backups in one second differ)."""
    ts = datetime.fromtimestamp(now if now is not None else time.time(), UTC)
    return f"{ts:%Y%m%dT%H%M%SZ}-{os.urandom(2).hex()}"


def created_ts(backup_id: str) -> float:
    return datetime.strptime(backup_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def fsync_path(path: Path) -> None:
    """fsync a file or a directory (a rename is durable only once its directory is synced)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class Building:
    """A backup being written: parts go into `tmp`; `commit()` seals it under its final name."""

    root: Path
    backup_id: str

    @property
    def tmp(self) -> Path:
        return self.root / f"{TMP_PREFIX}{self.backup_id}"

    @property
    def final(self) -> Path:
        return self.root / self.backup_id

    def open(self) -> Building:
        self.tmp.mkdir(parents=True, mode=0o700)
        return self

    def write_manifest(self, meta: dict) -> dict:
        """Checksum every part, write manifest.json and its own checksum; returns the manifest."""
        parts = {p.name: {"size": p.stat().st_size, "sha256": sha256_file(p)}
                 for p in sorted(self.tmp.iterdir()) if p.is_file()}
        manifest = {"id": self.backup_id, "created": created_ts(self.backup_id), **meta, "parts": parts}
        text = json.dumps(manifest, indent=2, sort_keys=True).encode()
        (self.tmp / MANIFEST).write_bytes(text)
        (self.tmp / MANIFEST_SUM).write_text(hashlib.sha256(text).hexdigest() + "\n")
        return manifest

    def commit(self) -> Path:
        for p in self.tmp.iterdir():
            fsync_path(p)
        fsync_path(self.tmp)
        os.rename(self.tmp, self.final)
        fsync_path(self.root)
        return self.final

    def discard(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def read_manifest(path: Path) -> dict:
    """The manifest of the backup at `path`, after checking it against manifest.sha256."""
    try:
        text = (path / MANIFEST).read_bytes()
        want = (path / MANIFEST_SUM).read_bytes().strip()
    except OSError as e:
        raise BackupDamaged(f"{path.name}: {e}") from None
    if hashlib.sha256(text).hexdigest().encode() != want:
        raise BackupDamaged(f"{MANIFEST}: checksum differs from {MANIFEST_SUM}")
    try:
        return json.loads(text)
    except ValueError as e:
        raise BackupDamaged(f"{MANIFEST}: {e}") from None


def check(path: Path) -> dict:
    """Every part present with its size and checksum, and nothing extra; returns the manifest."""
    manifest = read_manifest(path)
    found = {p.name for p in path.iterdir()} - {MANIFEST, MANIFEST_SUM}
    if extra := found - set(manifest["parts"]):
        raise BackupDamaged(f"files not in the manifest: {sorted(extra)}")
    for name, want in manifest["parts"].items():
        part = path / name
        if not part.is_file():
            raise BackupDamaged(f"{name}: missing")
        if part.stat().st_size != want["size"] or sha256_file(part) != want["sha256"]:
            raise BackupDamaged(f"{name}: checksum mismatch")
    return manifest


def list_ids(root: Path) -> list[str]:
    """Finished backups under `root`, oldest first."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and ID_RE.match(p.name))


def remove(root: Path, backup_id: str) -> None:
    shutil.rmtree(root / backup_id, ignore_errors=True)
    (root / f"{backup_id}{VERIFIED_SUFFIX}").unlink(missing_ok=True)


def mark_verified(root: Path, backup_id: str, checks: dict) -> None:
    """Record a proved restore beside the backup (atomically: temp name, fsync, rename)."""
    target = root / f"{backup_id}{VERIFIED_SUFFIX}"
    tmp = target.with_name(f"{TMP_PREFIX}{target.name}")
    tmp.write_text(json.dumps({"ts": time.time(), **checks}))
    fsync_path(tmp)
    os.rename(tmp, target)


def verified(root: Path, backup_id: str) -> dict | None:
    try:
        return json.loads((root / f"{backup_id}{VERIFIED_SUFFIX}").read_text())
    except (OSError, ValueError):
        return None


def unmark_verified(root: Path, backup_id: str) -> None:
    (root / f"{backup_id}{VERIFIED_SUFFIX}").unlink(missing_ok=True)


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
