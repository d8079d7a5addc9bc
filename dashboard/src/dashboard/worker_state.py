"""What the worker keeps in Redis, read for the jobs and profiles pages: each job's summary and last runs,
the retention policies, the backups, and the profile versions its profile job proposed.

The dashboard never imports the worker (the services are independent): the worker writes these keys
(common.constants' worker block) and sends nothing else; actions go back to it over sys.control.
Each reader returns plain dicts; a value that does not parse is skipped, never guessed at.
"""

from __future__ import annotations

import json

import redis.asyncio as aioredis
from common.schemas import Status

from common import constants as c

RUNS_SHOWN = 10  # last runs per job on the jobs page (the worker keeps JOB_HISTORY)
_VERSIONS_PREFIX = c.profile_versions_key("")


def _parsed(raw: bytes | None, default):
    """A JSON value, or `default` when it is missing or does not parse."""
    try:
        return json.loads(raw) if raw is not None else default
    except ValueError:
        return default


async def jobs(redis: aioredis.Redis) -> list[dict]:
    """Each job (c.JOBS order) with its summary and its last RUNS_SHOWN runs, newest first; a job no worker
    has registered yet is listed as such."""
    summaries = await redis.hgetall(c.WORKER_JOBS_KEY)
    async with redis.pipeline(transaction=False) as pipe:
        for name in c.JOBS:
            pipe.lrange(c.job_runs_key(name), 0, RUNS_SHOWN - 1)
        histories = await pipe.execute()
    rows = []
    for name, raws in zip(c.JOBS, histories, strict=True):
        s = _parsed(summaries.get(name.encode()), {})
        rows.append({"name": name, "registered": bool(s), "schedule": s.get("schedule"),
                     "next_run_ts": s.get("next_run_ts"), "last_success_ts": s.get("last_success_ts"),
                     "failures": s.get("failures", 0), "failed_total": s.get("failed_total", 0),
                     "runs": s.get("runs", 0),
                     "history": [run for raw in raws if (run := _parsed(raw, None)) is not None]})
    return rows


async def catalogue(redis: aioredis.Redis) -> dict:
    """The retention policies and the backups (newest first) as the worker last published them."""
    policies, backups = await redis.mget(c.WORKER_POLICIES_KEY, c.WORKER_BACKUPS_KEY)
    return {"policies": _parsed(policies, []), "backups": _parsed(backups, [])}


async def profile_versions(redis: aioredis.Redis) -> dict[str, list[dict]]:
    """Every profile's versions, newest first, by profile name (profiles without versions are absent)."""
    found: dict[str, list[dict]] = {}
    async for key in redis.scan_iter(match=_VERSIONS_PREFIX + "*", count=100):
        records = [r for raw in (await redis.hgetall(key)).values() if (r := _parsed(raw, None)) is not None]
        found[key.decode().removeprefix(_VERSIONS_PREFIX)] = sorted(records, key=lambda r: -r["version"])
    return dict(sorted(found.items()))


async def profile_version(redis: aioredis.Redis, *, profile: str, version: int) -> dict | None:
    """One version's record, or None."""
    return _parsed(await redis.hget(c.profile_versions_key(profile), str(version)), None)


def worker_refusal(monitor) -> str:
    """Why nothing sent to the worker would be carried out now ("" when it runs): its heartbeat is RED."""
    view = monitor.services.get(c.WORKER)
    if view is not None and view.status is not Status.RED:
        return ""
    reason = view.reason if view is not None else "no heartbeat yet"
    return (f"the worker is not running ({reason}): start it (systemctl start scalper-worker, or make run) "
            "and try again")
