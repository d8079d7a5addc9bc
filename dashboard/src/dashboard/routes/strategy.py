"""Signals (recent, with their reasons) and strategy profiles (active, switch)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from common.control import send_control
from common.schemas import Command, Signal, decode
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from common import constants as c
from dashboard import api_models as api
from dashboard.deps import AdminDep, MonitorDep, RuntimeDep, UserDep
from dashboard.pages import after_action, render

router = APIRouter(tags=["strategy"])
RECENT = 50
ProfileName = Annotated[str, Form(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


async def _signals(rt) -> list[dict]:
    out = []
    for _, fields in await rt.bus.redis.xrevrange(c.STRATEGY_SIGNALS, count=RECENT):
        try:
            msg = decode(fields[c.PAYLOAD_FIELD])
        except (KeyError, msgspec.DecodeError):
            continue
        if isinstance(msg, Signal):
            out.append(msgspec.to_builtins(msg))
    return out


def _profile(monitor) -> dict:
    """The strategy's active profile as its heartbeat reports it (empty before the first one)."""
    view = monitor.services.get(c.STRATEGY)
    details = view.heartbeat.details if view and view.heartbeat else {}
    return {key: details.get(key, "") for key in ("profile", "profile_version", "kill_switch", "equity_usdt")}


@router.get("/signals", response_class=HTMLResponse)
async def signals_page(request: Request, user: UserDep, rt: RuntimeDep):
    """The latest signals with score, components and reasons."""
    return render(request, "signals.html", user=user, signals=await _signals(rt))


@router.get("/api/signals", response_model=api.Signals)
async def signals(rt: RuntimeDep) -> dict:
    """The latest signals on strategy.signals, newest first."""
    return {"signals": await _signals(rt)}


@router.get("/profiles", response_class=HTMLResponse)
def profiles_page(request: Request, user: UserDep, monitor: MonitorDep):
    """The active profile; admins switch it (the strategy validates and refuses a bad one with an alert)."""
    return render(request, "profiles.html", user=user, profile=_profile(monitor))


@router.get("/api/profile", response_model=api.Profile)
def profile(monitor: MonitorDep) -> dict:
    """The strategy's active profile, its version and the kill switch."""
    return _profile(monitor)


@router.post("/api/profile", response_model=api.ProfileSwitchSent, responses=api.refusals(403))
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
        request, back="/profiles", result={"command": "set_profile", "args": args, "entry_id": entry}
    )
