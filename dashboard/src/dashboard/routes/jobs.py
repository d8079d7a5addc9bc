"""The jobs page (/jobs): the worker's jobs with their schedules, last runs, next runs and failures, the
retention policies and the last backups; "run now" (admin) sends run_job to the worker on sys.control,
as `scalperctl jobs run` does, so the run is locked, recorded and alerted like a scheduled one."""

from __future__ import annotations

from common.control import send_control
from common.schemas import Command, decode
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from common import constants as c
from dashboard import action_models as actions
from dashboard import api_models as models
from dashboard import operations_models as ops
from dashboard import worker_state
from dashboard.deps import AdminDep, MonitorDep, RuntimeDep, UserDep
from dashboard.responses import after_action, render

page = APIRouter(prefix="/jobs", tags=["jobs"])
api = APIRouter(prefix="/api/jobs", tags=["jobs"])


async def _jobs(rt, monitor) -> dict:
    """Every job with its last runs, the retention policies, the backups, and whether the worker runs."""
    redis = rt.bus.redis
    return {"worker_refusal": worker_state.worker_refusal(monitor), "jobs": await worker_state.jobs(redis),
            **await worker_state.catalogue(redis)}


@page.get("", response_class=HTMLResponse)
async def jobs_page(request: Request, user: UserDep, rt: RuntimeDep, monitor: MonitorDep):
    """The jobs page."""
    return render(request, "jobs.html", user=user, **await _jobs(rt, monitor))


@api.get("", response_model=ops.Jobs)
async def jobs(rt: RuntimeDep, monitor: MonitorDep) -> dict:
    """Each job's schedule, next run, failures and last runs; the retention policies; the last backups."""
    return await _jobs(rt, monitor)


@api.post("/{name}/run", response_model=actions.JobRunSent, responses=models.refusals(403, 404, 409))
async def run_now(request: Request, name: str, user: AdminDep, rt: RuntimeDep, monitor: MonitorDep):
    """Run a job now (admin); refused while the worker is not running, as nothing would run it."""
    if name not in c.JOBS:
        raise HTTPException(status_code=404, detail=f"no job {name}")
    audit = request.app.state.audit
    if problem := worker_state.worker_refusal(monitor):
        audit.record(user=user.name, action=f"run job {name}", client=request.client.host, outcome="refused",
                     detail=problem)
        raise HTTPException(status_code=409, detail=problem)
    redis = rt.bus.redis
    entry = await send_control(redis, command=Command.RUN_JOB, target=c.WORKER, args={"job": name},
                               issued_by=f"dashboard:{user.name}")
    [(_, fields)] = await redis.xrange(c.SYS_CONTROL, min=entry, max=entry)
    command_id = decode(fields[c.PAYLOAD_FIELD]).command_id
    audit.record(user=user.name, action=f"run job {name}", client=request.client.host, outcome="ok",
                 detail=f"command {command_id}, entry {entry}")
    return after_action(request, back="/jobs", result={"command": Command.RUN_JOB.value, "job": name,
                                                       "command_id": command_id, "entry_id": entry})
