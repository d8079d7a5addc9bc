"""The services page (/services): pid, start time, restarts, memory, version, last error; and restarting a
service that runs under a supervisor (systemd or supervisord)."""

from __future__ import annotations

from common.control import send_control
from common.schemas import Command
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from common import constants as c
from dashboard import action_models as actions
from dashboard import api_models as models
from dashboard.deps import AdminDep, MonitorDep, RuntimeDep, UserDep
from dashboard.processes import restart_refusal, service_processes
from dashboard.responses import after_action, render

page = APIRouter(prefix="/services", tags=["services"])
api = APIRouter(prefix="/api/services", tags=["services"])


@page.get("", response_class=HTMLResponse)
def services_page(request: Request, user: UserDep, monitor: MonitorDep):
    """Each service's process facts."""
    return render(request, "services.html", user=user, services=service_processes(monitor))


@api.get("", response_model=models.Services)
def services(monitor: MonitorDep) -> dict:
    """Each service with its process facts (memory and CPU when it runs on the dashboard's host)."""
    return {"services": service_processes(monitor)}


@api.post("/{name}/restart", response_model=actions.RestartSent, responses=models.refusals(403, 404, 409))
async def restart(request: Request, name: str, user: AdminDep, rt: RuntimeDep, monitor: MonitorDep):
    """Restart one service (admin): it stops gracefully, as on SIGTERM, and its supervisor starts it again."""
    if name not in c.SERVICES:
        raise HTTPException(status_code=404, detail=f"no service {name}")
    row = next(s for s in monitor.snapshot()["services"] if s["name"] == name)
    audit = request.app.state.audit
    if problem := restart_refusal(row):
        audit.record(user=user.name, action=f"restart {name}", client=request.client.host, outcome="refused",
                     detail=problem)
        raise HTTPException(status_code=409, detail=problem)
    entry = await send_control(rt.bus.redis, command=Command.RESTART, target=name,
                               issued_by=f"dashboard:{user.name}")
    audit.record(user=user.name, action=f"restart {name}", client=request.client.host, outcome="ok",
                 detail=f"pid {row['pid']} under {row['supervisor']}, entry {entry}")
    return after_action(request, back="/services",
                        result={"command": Command.RESTART.value, "target": name, "pid": row["pid"],
                                "supervisor": row["supervisor"], "entry_id": entry})
