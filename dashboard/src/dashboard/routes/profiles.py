"""The profiles page (/profiles): the strategy's active profile, and switching it (admin).

Its JSON is /api/profile (singular, older than the page), the API router's prefix."""

from __future__ import annotations

from typing import Annotated

from common.control import send_control
from common.schemas import Command
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from common import constants as c
from dashboard import api_models as models
from dashboard.deps import AdminDep, MonitorDep, RuntimeDep, UserDep
from dashboard.responses import after_action, render

page = APIRouter(prefix="/profiles", tags=["profiles"])
api = APIRouter(prefix="/api/profile", tags=["profiles"])
ProfileName = Annotated[str, Form(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


def _profile(monitor) -> dict:
    """The strategy's active profile as its heartbeat reports it (empty before the first one)."""
    view = monitor.services.get(c.STRATEGY)
    details = view.heartbeat.details if view and view.heartbeat else {}
    return {key: details.get(key, "") for key in ("profile", "profile_version", "kill_switch", "equity_usdt")}


@page.get("", response_class=HTMLResponse)
def profiles_page(request: Request, user: UserDep, monitor: MonitorDep):
    """The active profile; admins switch it (the strategy validates and refuses a bad one with an alert)."""
    return render(request, "profiles.html", user=user, profile=_profile(monitor))


@api.get("", response_model=models.Profile)
def profile(monitor: MonitorDep) -> dict:
    """The strategy's active profile, its version and the kill switch."""
    return _profile(monitor)


@api.post("", response_model=models.ProfileSwitchSent, responses=models.refusals(403))
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
