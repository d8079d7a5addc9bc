"""The deploys page (/deploys): which release each service runs, the auto-update's current and previous
release, its history (deploys, refusals, rollbacks) and the commits it will never retry. The history is
a file the auto-update writes on this host (DEPLOY_STATE_DIR), read as `scalperctl deploy` reads it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from dashboard import deploy_view, running_versions
from dashboard import operations_models as ops
from dashboard.deps import MonitorDep, RuntimeDep, UserDep
from dashboard.responses import render

page = APIRouter(prefix="/deploys", tags=["deploys"])
api = APIRouter(prefix="/api/deploys", tags=["deploys"])
Limit = Annotated[int, Query(ge=1, le=1000, description="history entries, newest first")]


def _deploys(rt, monitor, limit: int) -> dict:
    return {**deploy_view.deploys(rt.settings, limit=limit), "running": running_versions.running(monitor)}


@page.get("", response_class=HTMLResponse)
def deploys_page(request: Request, user: UserDep, rt: RuntimeDep, monitor: MonitorDep):
    """The deploys page."""
    return render(request, "deploys.html", user=user, **_deploys(rt, monitor, deploy_view.HISTORY_SHOWN))


@api.get("", response_model=ops.Deploys)
def deploys(rt: RuntimeDep, monitor: MonitorDep, limit: Limit = deploy_view.HISTORY_SHOWN) -> dict:
    """The running versions, the current and previous release, the history, the commits never retried."""
    return _deploys(rt, monitor, limit)
