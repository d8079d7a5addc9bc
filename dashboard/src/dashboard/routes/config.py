"""The config page (/config): the configuration, secrets masked; validate the env file and hot-reload it
(admin); the versions seen at start and reload."""

from __future__ import annotations

from common.control import send_control
from common.schemas import Command
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from common import config
from dashboard import action_models as actions
from dashboard import api_models as models
from dashboard import operations_models as ops
from dashboard.deps import AdminDep, RuntimeDep, SettingsDep, UserDep
from dashboard.responses import after_action, render

page = APIRouter(prefix="/config", tags=["config"])
api = APIRouter(prefix="/api/config", tags=["config"])


def _validate() -> dict:
    """The env file as the services would read it now (secrets the dashboard never receives not required):
    ok (with its masked view), or the wrong key."""
    try:
        view = config.load(file_wins=True, service="dashboard").public_view()
    except config.ConfigError as e:
        return {"valid": False, "key": e.key, "problem": e.problem}
    return {"valid": True, "key": "", "problem": "", "view": view}


@page.get("", response_class=HTMLResponse)
def config_page(request: Request, user: UserDep, settings: SettingsDep):
    """The running configuration with secrets masked, and whether the env file on disk is valid."""
    return render(
        request,
        "config.html",
        user=user,
        settings=settings.public_view(),
        check=_check(),
        env_file=str(config.env_file_path()),
        versions=request.app.state.versions.listing(),
    )


def _check() -> dict:
    """The env file's validation without its view."""
    return {k: v for k, v in _validate().items() if k != "view"}


@api.get("", response_model=ops.ConfigView)
def show_config(settings: SettingsDep) -> dict:
    """The dashboard's running configuration, secrets masked, and the env file's validation."""
    return {"settings": settings.public_view(), "check": _check()}


@api.get("/versions", response_model=ops.ConfigVersions)
def config_versions(request: Request) -> dict:
    """Configuration versions seen at start and reload, newest first, each with its changes."""
    return {"versions": request.app.state.versions.listing()}


@api.post("/reload", response_model=actions.ConfigReload, responses=models.refusals(403))
async def reload_config(request: Request, user: AdminDep, rt: RuntimeDep):
    """Validate the env file, then ask every service to hot-reload it (admin)."""
    check = _validate()
    if check["valid"]:
        request.app.state.versions.record(check.pop("view"), by=user.name)
        entry = await send_control(
            rt.bus.redis, command=Command.RELOAD_CONFIG, issued_by=f"dashboard:{user.name}"
        )
        check["entry_id"] = entry
    request.app.state.audit.record(
        user=user.name,
        action="reload config",
        client=request.client.host,
        outcome="ok" if check["valid"] else "invalid",
        detail=check["key"],
    )
    return after_action(request, back="/config", result=check)
