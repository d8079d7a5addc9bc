"""Services and processes: pid, start time, restarts, memory, version, last error; worker jobs."""

from __future__ import annotations

import psutil
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dashboard.deps import MonitorDep, UserDep
from dashboard.pages import render

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
        rows.append({**row, "start_ts_ns": start, "process": _process(row["pid"], start)})
    return rows


@router.get("/services", response_class=HTMLResponse)
def services_page(request: Request, user: UserDep, monitor: MonitorDep):
    """Each service's process facts, and the worker's jobs."""
    return render(request, "services.html", user=user, services=_services(monitor))


@router.get("/api/services")
def services(monitor: MonitorDep) -> dict:
    """Each service with its process facts (memory and CPU when it runs on the dashboard's host)."""
    return {"services": _services(monitor)}
