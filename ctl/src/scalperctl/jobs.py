"""`scalperctl jobs list|run NAME|history NAME|policies`: the worker's jobs, through Redis.

`run` asks the worker over sys.control (RUN_JOB) and waits for the run record that carries the
command's id, so the run is locked, recorded and alerted exactly as a scheduled one; when the worker
is not running the command says so and exits 3 instead of waiting.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
import time
from datetime import UTC, datetime

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from common import config
from common import constants as c
from common.control import send_control
from common.health import classify
from common.schemas import Command, Heartbeat, Status, decode, now_ns
from worker.retention import policies
from worker.runs import history, summaries

COMMANDS = ("jobs",)
EXIT_FAILED = 1
EXIT_REDIS_DOWN = 2
EXIT_WORKER_DOWN = 3
RUN_TIMEOUT_S = 900.0  # a backup of a large data set with its proof takes minutes


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    jp = subparsers.add_parser("jobs", help="the worker's jobs: list, run now, history, retention policies")
    sub = jp.add_subparsers(dest="jobs_cmd", required=True)
    ls = sub.add_parser("list", help="each job with its schedule, last run, next run and failures")
    ls.add_argument("--json", action="store_true")
    rn = sub.add_parser("run", help="run a job now through the worker and wait for its outcome")
    rn.add_argument("name", choices=c.JOBS)
    rn.add_argument("--timeout", type=float, default=RUN_TIMEOUT_S, help="seconds to wait for the run")
    hi = sub.add_parser("history", help="a job's last runs as JSON, newest first")
    hi.add_argument("name", choices=c.JOBS)
    hi.add_argument("--limit", type=int, default=20)
    sub.add_parser("policies", help="every retention policy: config key, value, unit (JSON)")


def connect(settings: config.Settings) -> aioredis.Redis:
    return aioredis.from_url(settings.redis_url.get_secret_value(), socket_connect_timeout=3)


def run(args: argparse.Namespace, settings: config.Settings) -> int:
    if args.jobs_cmd == "policies":  # configuration only: no Redis needed
        print(json.dumps({"policies": policies(settings)}, indent=2, default=str))
        return 0
    try:
        if args.jobs_cmd == "list":
            return asyncio.run(list_jobs(settings, as_json=args.json))
        if args.jobs_cmd == "history":
            return asyncio.run(show_history(settings, args.name, args.limit))
        return asyncio.run(run_job(settings, args.name, timeout=args.timeout))
    except (RedisConnectionError, OSError) as e:
        print(f"redis unreachable: {e}", file=sys.stderr)
        return EXIT_REDIS_DOWN


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts else None


async def list_jobs(settings: config.Settings, *, as_json: bool) -> int:
    r = connect(settings)
    try:
        known = await summaries(r)
    finally:
        await r.aclose()
    rows = []
    for name in c.JOBS:
        s = known.get(name, {})
        last = s.get("last_run") or {}
        rows.append({"name": name, "schedule": s.get("schedule"), "next_run": _iso(s.get("next_run_ts")),
                     "last_run": _iso(last.get("start_ts")), "last_outcome": last.get("outcome"),
                     "last_success": _iso(s.get("last_success_ts")), "failures": s.get("failures", 0),
                     "runs": s.get("runs", 0), "registered": bool(s)})
    if as_json:
        print(json.dumps({"jobs": rows}, indent=2))
    else:
        print(f"{'job':<10} {'schedule':<14} {'next run':<26} {'last run':<26} {'outcome':<8} failures")
        for row in rows:
            print(f"{row['name']:<10} {row['schedule'] or '(no worker yet)':<14} {row['next_run'] or '-':<26} "
                  f"{row['last_run'] or '-':<26} {row['last_outcome'] or '-':<8} {row['failures']}")
    return 0


async def show_history(settings: config.Settings, name: str, limit: int) -> int:
    r = connect(settings)
    try:
        runs = await history(r, name, limit=limit)
    finally:
        await r.aclose()
    print(json.dumps({"job": name, "runs": runs}, indent=2))
    return 0


async def worker_alive(r: aioredis.Redis) -> tuple[bool, str]:
    raw = await r.get(c.heartbeat_key(c.WORKER))
    hb = decode(raw) if raw else None
    status, reason = classify(hb if isinstance(hb, Heartbeat) else None, now_ns=now_ns())
    return status is not Status.RED, reason


async def run_job(settings: config.Settings, name: str, *, timeout: float) -> int:
    """Ask the worker to run `name` now; prints the run record; exit 0 only when it ended OK."""
    r = connect(settings)
    try:
        alive, reason = await worker_alive(r)
        if not alive:
            print(f"the worker is not running ({reason}): start it (systemctl start scalper-worker, or make run) "
                  f"and try again", file=sys.stderr)
            return EXIT_WORKER_DOWN
        command_id = await _send(r, name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            record = next((run for run in await history(r, name) if run["trigger"] == command_id), None)
            if record and record["outcome"] != "running":
                print(json.dumps(record, indent=2))
                return 0 if record["outcome"] == "ok" else EXIT_FAILED
            if record is None and not (await worker_alive(r))[0]:
                print("the worker stopped before it took the command", file=sys.stderr)
                return EXIT_WORKER_DOWN
            await asyncio.sleep(0.2)
        print(f"job {name} did not end within {timeout:.0f} s (see `scalperctl jobs history {name}`)",
              file=sys.stderr)
        return EXIT_FAILED
    finally:
        await r.aclose()


async def _send(r: aioredis.Redis, name: str) -> str:
    """Publish RUN_JOB; returns the command's id, which the worker's run record carries as its trigger."""
    entry = await send_control(r, command=Command.RUN_JOB, target=c.WORKER, args={"job": name},
                               issued_by=f"scalperctl:{getpass.getuser()}")
    entries = await r.xrange(c.SYS_CONTROL, min=entry, max=entry)
    return decode(entries[0][1][c.PAYLOAD_FIELD]).command_id
