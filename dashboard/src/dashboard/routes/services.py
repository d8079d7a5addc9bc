"""Services and processes: pid, start time, restarts, memory, version, last error; worker jobs; and
restarting a service that runs under a supervisor (systemd or supervisord)."""

from __future__ import annotations

import psutil
from common.control import send_control
from common.schemas import Command
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from common import constants as c
from dashboard import api_models as api
from dashboard.deps import AdminDep, MonitorDep, RuntimeDep, UserDep
from dashboard.pages import after_action, render

router = APIRouter(tags=["services"])
# A local pid is the service's own process only when it started within this long of the heartbeat's start.
START_MATCH_S = 5.0


def _process(pid: int | None, start_ts_ns: int) -> dict:
    """Memory and CPU of the service's process when it runs on this host (else empty: remote or gone)."""
    try:
        p = psutil.Process(pid) if pid else None
        if p is None or abs(p.create_time() - start_ts_ns / 1e9) > START_MATCH_S:
            return {}
        with p.oneshot():
            return {
                "rss_mb": round(p.memory_info().rss / 2**20, 1),
                "cpu_s": round(sum(p.cpu_times()[:2]), 1),
                "threads": p.num_threads(),
            }
    except (psutil.Error, ValueError):
        return {}


def _services(monitor) -> list[dict]:
    rows = []
    for row in monitor.snapshot()["services"]:
        view = monitor.services[row["name"]]
        start = view.heartbeat.start_ts_ns if view.heartbeat else 0
        rows.append({**row, "start_ts_ns": start, "process": _process(row["pid"], start),
                     "restart_refusal": restart_refusal(row)})
    return rows


@router.get("/services", response_class=HTMLResponse)
def services_page(request: Request, user: UserDep, monitor: MonitorDep):
    """Each service's process facts, and the worker's jobs."""
    return render(request, "services.html", user=user, services=_services(monitor))


@router.get("/api/services", response_model=api.Services)
def services(monitor: MonitorDep) -> dict:
    """Each service with its process facts (memory and CPU when it runs on the dashboard's host)."""
    return {"services": _services(monitor)}


def restart_refusal(row: dict) -> str:
    """Why this service cannot be restarted from here, or "" when it can."""
    if not row["pid"] or row["status"] == "RED":
        return f"{row['name']} is not running: its supervisor (or systemctl on the host) must start it"
    if not row["supervisor"]:
        return f"{row['name']} runs under no supervisor: stopping it would leave it stopped"
    return ""


@router.post("/api/services/{name}/restart", response_model=api.RestartSent,
             responses=api.refusals(403, 404, 409))
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
