"""The worker's wiring: the four jobs, their runner and scheduler, `run_job` and `profile_decision`
commands, the backup watch.

Order: jobs -> runner (lock, record, metrics, alerts) -> scheduler started from the persistent store
-> the catalogue for the jobs page (retention policies, backups on this host) -> sys.control hook for
RUN_JOB and PROFILE_DECISION -> the stale-backup watch -> stop the scheduler on shutdown.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from common import config
from common import constants as c
from common.health import Progress
from common.lifecycle import Runtime
from common.schemas import Command, ControlCommand, Severity
from worker.backup import BackupJob, backup_root, listing, publish_verified
from worker.cleanup import CleanupJob
from worker.profile_update import ProfileJob, decide
from worker.retention import RetentionJob, policies
from worker.runs import summaries
from worker.scheduler import JobRunner

log = logging.getLogger(__name__)

BACKUP_WATCH_S = 300.0  # how often the age of the newest good backup is checked


class WorkerService:
    """Owns the runner and the tasks started by `run_job` commands."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.runner = JobRunner(bus=rt.bus, jobs=[RetentionJob(), ProfileJob(), BackupJob(), CleanupJob()],
                                settings=lambda: rt.settings)
        self._manual: set[asyncio.Task] = set()

    async def start(self) -> None:
        await self.runner.start(self.rt.settings)
        await self.publish_catalogue(self.rt.settings)
        self.rt.on_control(self.on_control)
        self.rt.on_reload(self.runner.sync)  # a changed WORKER_*_CRON takes effect without a restart
        self.rt.on_reload(self.publish_catalogue)
        self.rt.task("backup-watch", self.watch_backups, critical=False)
        self.rt.on_shutdown(self.stop)
        self.rt.health.details["jobs"] = ",".join(self.runner.jobs)

    async def publish_catalogue(self, settings: config.Settings) -> None:
        """The retention policies in force and the backups on this host, where the dashboard reads them."""
        backups = await asyncio.to_thread(listing, backup_root(settings))
        await self.rt.bus.redis.set(c.WORKER_POLICIES_KEY, json.dumps(policies(settings), default=str))
        await self.rt.bus.redis.set(c.WORKER_BACKUPS_KEY, json.dumps(backups))
        publish_verified(backups)

    async def on_control(self, cmd: ControlCommand) -> None:
        """RUN_JOB {"job": name}: run it now, in the background (the control consumer never waits on a job).
        PROFILE_DECISION: carried out before the next command (a file write and a command, no wait)."""
        if cmd.target != c.WORKER:
            return
        if cmd.command is Command.PROFILE_DECISION:
            await self.decide(cmd)
            return
        if cmd.command is not Command.RUN_JOB:
            return
        name = cmd.args.get("job", "")
        if name not in self.runner.jobs:
            await self.rt.bus.alert(key="job:unknown", severity=Severity.WARN,
                                    title=f"run_job: no job {name!r}", detail=f"have {sorted(self.runner.jobs)}")
            return
        task = asyncio.create_task(self.runner.run(name, trigger=cmd.command_id), name=f"job:{name}")
        self._manual.add(task)
        task.add_done_callback(self._manual.discard)

    async def decide(self, cmd: ControlCommand) -> None:
        """An admin's approve, reject or rollback of a profile version; a refused one raises a WARN alert."""
        args = cmd.args
        try:
            decision = c.ProfileDecision(args.get("decision", ""))
            record = await asyncio.to_thread(decide, self.runner.context().redis, settings=self.rt.settings,
                                             name=args.get("profile", ""), version=args.get("version", ""),
                                             decision=decision, by=cmd.issued_by)
        except (ValueError, OSError) as e:  # refused (DecisionRefused), an unknown decision, no file written
            log.warning("profile_decision_refused", extra={"ctx": {"args": args, "error": str(e)}})
            await self.rt.bus.alert(key=c.PROFILE_DECISION_ALERT, severity=Severity.WARN,
                                    title="profile decision not carried out", detail=str(e))
            return
        log.info("profile_decided", extra={"ctx": {"profile": record["profile"], "version": record["version"],
                                                    "decision": decision.value, "by": cmd.issued_by}})

    async def watch_backups(self, progress: Progress) -> None:
        """A CRIT alert while the newest good backup is too old (see backup_overdue)."""
        started = time.time()
        while True:
            await asyncio.sleep(BACKUP_WATCH_S)
            progress.beat()
            last = (await summaries(self.rt.bus.redis)).get(c.JOB_BACKUP, {}).get("last_success_ts")
            problem = backup_overdue(last_success_ts=last, started_ts=started, now=time.time(),
                                     max_age_s=self.rt.settings.backup_max_age_h * 3600)
            if problem:
                await self.rt.bus.alert(key="job:backup:stale", severity=Severity.CRIT,
                                        title="no good backup within BACKUP_MAX_AGE_H", detail=problem)

    async def stop(self) -> None:
        for task in list(self._manual):
            task.cancel()
        await asyncio.gather(*self._manual, return_exceptions=True)
        await self.runner.stop()


def backup_overdue(*, last_success_ts: float | None, started_ts: float, now: float, max_age_s: float) -> str | None:
    """Why the backups are overdue, or None: the newest good one is older than `max_age_s`, or there has
    been none since the worker started that long ago (a fresh install is given one schedule period)."""
    age = now - (last_success_ts or started_ts)
    if age <= max_age_s:
        return None
    if last_success_ts:
        return f"newest good backup {age / 3600:.1f} h old"
    return f"no good backup since the worker started {age / 3600:.1f} h ago"
