"""The profiles page (/profiles): the strategy's active profile and switching it (admin); the versions the
worker's profile job proposed, with their diff and figures, and an admin's approve, reject or rollback.

Its JSON is /api/profile (singular, older than the page), the API router's prefix. A decision goes to the
worker as PROFILE_DECISION on sys.control: the worker owns applying a version (it writes the profile file
and sends set_profile, which the strategy validates and uses from its next bar)."""

from __future__ import annotations

from typing import Annotated

from common.control import send_control
from common.schemas import Command
from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse

from common import constants as c
from dashboard import action_models as actions
from dashboard import api_models as models
from dashboard import worker_state
from dashboard.deps import AdminDep, MonitorDep, RuntimeDep, UserDep
from dashboard.responses import after_action, render

page = APIRouter(prefix="/profiles", tags=["profiles"])
api = APIRouter(prefix="/api/profile", tags=["profiles"])
NAME = r"^[A-Za-z0-9_.-]+$"
ProfileName = Annotated[str, Form(min_length=1, max_length=64, pattern=NAME)]


def _profile(monitor) -> dict:
    """The strategy's active profile as its heartbeat reports it (empty before the first one)."""
    view = monitor.services.get(c.STRATEGY)
    details = view.heartbeat.details if view and view.heartbeat else {}
    return {key: details.get(key, "") for key in ("profile", "profile_version", "kill_switch", "equity_usdt")}


async def _versions(rt, monitor) -> dict:
    """The active profile and every profile's recorded versions."""
    return {"active": _profile(monitor), "profiles": await worker_state.profile_versions(rt.bus.redis)}


@page.get("", response_class=HTMLResponse)
async def profiles_page(request: Request, user: UserDep, rt: RuntimeDep, monitor: MonitorDep):
    """The active profile and the versions; admins switch, approve, reject and roll back."""
    view = await _versions(rt, monitor)
    return render(request, "profiles.html", user=user, profile=view["active"], profiles=view["profiles"])


@api.get("", response_model=models.Profile)
def profile(monitor: MonitorDep) -> dict:
    """The strategy's active profile, its version and the kill switch."""
    return _profile(monitor)


@api.get("/versions", response_model=models.ProfileVersions)
async def versions(rt: RuntimeDep, monitor: MonitorDep) -> dict:
    """The active profile, and each profile's versions (proposals and their bases), newest first."""
    return await _versions(rt, monitor)


@api.post("", response_model=actions.ProfileSwitchSent, responses=models.refusals(403))
async def switch_profile(
    request: Request,
    profile: ProfileName,
    user: AdminDep,
    rt: RuntimeDep,
    reset_kill_switch: Annotated[bool, Form()] = False,
):
    """Switch the strategy's profile (admin); optionally reset its kill switch."""
    args = {"profile": profile} | ({"reset_kill_switch": "true"} if reset_kill_switch else {})
    entry = await send_control(
        rt.bus.redis,
        command=Command.SET_PROFILE,
        target=c.STRATEGY,
        args=args,
        issued_by=f"dashboard:{user.name}",
    )
    request.app.state.audit.record(
        user=user.name, action="set profile", client=request.client.host, outcome="ok", detail=f"{args}"
    )
    return after_action(
        request, back="/profiles",
        result={"command": Command.SET_PROFILE.value, "args": args, "entry_id": entry},
    )


@api.post("/versions/{name}/{version}/{decision}", response_model=actions.ProfileDecisionSent,
          responses=models.refusals(403, 404, 409))
async def decide(
    request: Request,
    name: Annotated[str, Path(max_length=64, pattern=NAME)],
    version: int,
    decision: c.ProfileDecision,
    user: AdminDep,
    rt: RuntimeDep,
    monitor: MonitorDep,
):
    """Approve or reject a pending version, or roll back to an applied one (admin); the worker does it."""
    record = await worker_state.profile_version(rt.bus.redis, profile=name, version=version)
    if record is None:
        raise HTTPException(status_code=404, detail=f"profile {name} has no version {version}")
    action = f"profile {decision.value} {name} v{version}"
    audit = request.app.state.audit
    problem, needs = worker_state.worker_refusal(monitor), c.DECISION_NEEDS[decision]
    if not problem and record["status"] != needs:
        problem = f"version {version} is {record['status']}: {decision.value} needs a {needs} one"
    if problem:
        audit.record(user=user.name, action=action, client=request.client.host, outcome="refused",
                     detail=problem)
        raise HTTPException(status_code=409, detail=problem)
    args = {"profile": name, "version": str(version), "decision": decision.value}
    entry = await send_control(rt.bus.redis, command=Command.PROFILE_DECISION, target=c.WORKER, args=args,
                               issued_by=f"dashboard:{user.name}")
    audit.record(user=user.name, action=action, client=request.client.host, outcome="ok",
                 detail=f"entry {entry}")
    return after_action(request, back="/profiles",
                        result={"command": Command.PROFILE_DECISION.value, "args": args, "entry_id": entry})
