"""A backup's proof: one flipped byte anywhere, or Redis content that does not restore equal, is damage."""

from __future__ import annotations

import gzip

import pytest

from tests.worker.harness import job_context, seed
from worker import archive, redis_state
from worker.backup import make_backup
from worker.verify import REDIS_PART, verify_backup

pytestmark = pytest.mark.service


@pytest.fixture
def backup(redis_server, redis_url, tmp_path):
    seed(redis_server.client(), tmp_path / "data")
    path, _checks = make_backup(job_context(redis_url, tmp_path / "data"))
    return path


def flip(path, at: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_fresh_backup_verifies(backup):
    checks = verify_backup(backup)
    assert checks["users_db"] and checks["files"] == 3 and checks["redis_keys"] >= 10


@pytest.mark.parametrize("part", ["files.tar.gz", "manifest.json", "manifest.sha256", "redis.msgpack.gz",
                                  "users.db.gz"])
def test_one_flipped_byte_in_any_file_is_damage(backup, part):
    flip(backup / part)
    with pytest.raises(archive.BackupDamaged):
        verify_backup(backup)


def test_a_missing_or_extra_file_is_damage(backup):
    (backup / "stray").write_text("x")
    with pytest.raises(archive.BackupDamaged, match="not in the manifest"):
        verify_backup(backup)
    (backup / "stray").unlink()
    (backup / "users.db.gz").unlink()
    with pytest.raises(archive.BackupDamaged, match="users.db.gz: missing"):
        verify_backup(backup)


def test_redis_content_that_does_not_restore_equal_is_damage(backup):
    """Checksums re-made over a tampered snapshot still fail: the scratch restore is compared key by key."""
    with gzip.open(backup / REDIS_PART) as f:
        snap = redis_state.decode(f.read())
    name, pttl, payload, _digest = snap[0]
    snap[0] = (name, pttl, payload, "0" * 64)
    with gzip.open(backup / REDIS_PART, "wb") as f:
        f.write(redis_state.encode(snap))
    manifest = archive.read_manifest(backup)
    meta = {k: v for k, v in manifest.items() if k not in ("id", "created", "parts")}
    building = archive.Building(backup.parent, backup.name)
    (backup / archive.MANIFEST).unlink()
    (backup / archive.MANIFEST_SUM).unlink()
    building.tmp.mkdir()
    for p in backup.iterdir():
        p.rename(building.tmp / p.name)
    building.write_manifest(meta)
    with pytest.raises(archive.BackupDamaged, match=f"key {name.decode()!r} differs"):
        verify_backup(building.tmp)
