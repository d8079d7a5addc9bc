"""`scalperctl backup now|list|verify ID|restore ID`.

`now` goes through the bus (the worker runs the backup job, locked and recorded, see scalperctl.jobs).
`list`, `verify` and `restore` work on local files: backups are directories on this host (BACKUP_DIR,
default DATA_DIR/backups), written by the worker on the same host, and checking them must work
while the platform is down, which is exactly when a restore is needed. `list` also looks in the
directory the worker last reported, in case the CLI's DATA_DIR differs from the worker's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import redis
from redis.exceptions import ConnectionError as RedisConnectionError

from common import config
from common import constants as c
from common.health import classify
from common.schemas import Heartbeat, Status, decode, now_ns
from scalperctl import jobs
from worker import archive
from worker.backup import backup_root
from worker.restore import restore_backup
from worker.runs import history
from worker.verify import verify_backup

COMMANDS = ("backup",)
EXIT_DAMAGED = 1
EXIT_NOT_FOUND = 4
EXIT_SERVICES_RUNNING = 5
EXIT_CANNOT_CHECK = 6  # no redis-server to restore the Redis part into: neither proved nor damaged


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    bp = subparsers.add_parser("backup", help="make, list, verify or restore backups")
    sub = bp.add_subparsers(dest="backup_cmd", required=True)
    now = sub.add_parser("now", help="ask the worker for a backup now (with its proved restore)")
    now.add_argument("--timeout", type=float, default=jobs.RUN_TIMEOUT_S)
    sub.add_parser("list", help="backups on this host as JSON: id, path, created, size, verified")
    vf = sub.add_parser("verify", help="restore a backup into scratch and check it; exit 1 on any damage")
    vf.add_argument("id")
    rs = sub.add_parser("restore", help="put a backup back (refused while services run)")
    rs.add_argument("id")


def run(args: argparse.Namespace, settings: config.Settings) -> int:
    try:
        if args.backup_cmd == "now":
            return asyncio.run(jobs.run_job(settings, c.JOB_BACKUP, timeout=args.timeout))
        if args.backup_cmd == "list":
            return list_backups(settings)
        if args.backup_cmd == "verify":
            return verify(settings, args.id)
        return restore(settings, args.id)
    except (RedisConnectionError, OSError) as e:
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        return jobs.EXIT_REDIS_DOWN


def roots(settings: config.Settings) -> list[Path]:
    """Where backups live: the configured directory, and the one the worker's last backup reported."""
    found = [backup_root(settings)]
    try:
        runs = asyncio.run(_backup_runs(settings))
    except (RedisConnectionError, OSError):  # Redis down: the configured directory still answers
        runs = []
    for run in runs:
        reported = run.get("detail", {}).get("root")
        if reported and Path(reported) not in found:
            found.append(Path(reported))
    return found


async def _backup_runs(settings: config.Settings) -> list[dict]:
    r = jobs.connect(settings)
    try:
        return await history(r, c.JOB_BACKUP, limit=5)
    finally:
        await r.aclose()


def find(settings: config.Settings, backup_id: str) -> Path | None:
    return next((root / backup_id for root in roots(settings) if backup_id in archive.list_ids(root)), None)


def list_backups(settings: config.Settings) -> int:
    rows = []
    for root in roots(settings):
        for backup_id in archive.list_ids(root):
            proof = archive.verified(root, backup_id)
            rows.append({"id": backup_id, "path": str(root / backup_id),
                         "created": datetime.fromtimestamp(archive.created_ts(backup_id), UTC).isoformat(),
                         "size": archive.du(root / backup_id), "verified": proof is not None,
                         "verified_at": datetime.fromtimestamp(proof["ts"], UTC).isoformat() if proof else None})
    print(json.dumps({"backups": sorted(rows, key=lambda row: row["id"])}, indent=2))
    return 0


def verify(settings: config.Settings, backup_id: str) -> int:
    path = find(settings, backup_id)
    if path is None:
        print(f"no backup {backup_id!r} (see `scalperctl backup list`)", file=sys.stderr)
        return EXIT_NOT_FOUND
    try:
        checks = verify_backup(path)
    except archive.BackupDamaged as e:
        archive.unmark_verified(path.parent, backup_id)
        print(f"backup {backup_id} is damaged: {e}", file=sys.stderr)
        return EXIT_DAMAGED
    except RuntimeError as e:
        print(f"backup {backup_id} could not be checked: {e}", file=sys.stderr)
        return EXIT_CANNOT_CHECK
    archive.mark_verified(path.parent, backup_id, checks)
    print(json.dumps({"id": backup_id, "path": str(path), "verified": True, **checks}))
    return 0


def running_services(settings: config.Settings) -> list[str]:
    r = redis.Redis.from_url(settings.redis_url.get_secret_value(), socket_connect_timeout=3)
    try:
        raws = r.mget([c.heartbeat_key(s) for s in c.SERVICES])
    finally:
        r.close()
    running = []
    for name, raw in zip(c.SERVICES, raws, strict=True):
        hb = decode(raw) if raw else None
        if classify(hb if isinstance(hb, Heartbeat) else None, now_ns=now_ns())[0] is not Status.RED:
            running.append(name)
    return running


def restore(settings: config.Settings, backup_id: str) -> int:
    path = find(settings, backup_id)
    if path is None:
        print(f"no backup {backup_id!r} (see `scalperctl backup list`)", file=sys.stderr)
        return EXIT_NOT_FOUND
    if running := running_services(settings):
        print(f"refusing to restore while services run ({', '.join(running)} heartbeating): stop them first "
              f"(systemd: `sudo systemctl stop scalper.target`; make run: `.venv/bin/supervisorctl -c "
              f"var/run/supervisord.conf stop market strategy execution dashboard worker`), then run this again", file=sys.stderr)
        return EXIT_SERVICES_RUNNING
    r = redis.Redis.from_url(settings.redis_url.get_secret_value(), socket_timeout=60)
    try:
        done = restore_backup(path, settings=settings, r=r)
    except archive.BackupDamaged as e:
        print(f"backup {backup_id} is damaged, nothing restored: {e}", file=sys.stderr)
        return EXIT_DAMAGED
    finally:
        r.close()
    print(json.dumps({"id": backup_id, "restored": True, **done}))
    return 0
