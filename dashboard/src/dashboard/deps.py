"""Request dependencies: who is asking, and may they act. Routers get `SessionDep` at include time."""

from __future__ import annotations

import secrets
from typing import Annotated

from common.config import Settings
from common.lifecycle import Runtime
from fastapi import Depends, HTTPException, Request

from dashboard.alert_engine import AlertEngine
from dashboard.auth.access import LOCAL_USER
from dashboard.auth.session import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE
from dashboard.auth.users import User
from dashboard.health_monitor import HealthMonitor

OPEN_MODE_REFUSAL = "open local mode: configure an admin (ADMIN_PASSWORD_HASH) to act from the dashboard"


class LoginRequired(Exception):
    """No valid session: pages redirect to /login, the API answers 401."""


async def current_user(request: Request) -> User:
    """The session's user with their current role (LOCAL_USER in open local mode); LoginRequired without a
    live session in Redis or when the user is gone."""
    state = request.app.state
    if state.open_mode:
        return LOCAL_USER
    session = await state.sessions.read(request.cookies.get(SESSION_COOKIE))
    user = state.users.get(session.user) if session else None
    if user is None:
        raise LoginRequired()
    request.state.csrf, request.state.session = session.csrf, session.handle
    return user


UserDep = Annotated[User, Depends(current_user)]
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")  # a body read as a form
SessionDep = Depends(current_user)  # attached at include_router: every route behind it needs a session


async def acting_user(request: Request, user: UserDep) -> User:
    """A logged-in user with a valid CSRF token (X-CSRF-Token header or `csrf` form field); else 403."""
    if request.app.state.open_mode:
        _refuse(request, user, OPEN_MODE_REFUSAL)
    token = request.headers.get(CSRF_HEADER)
    if token is None and request.headers.get("content-type", "").startswith(FORM_CONTENT_TYPES):
        token = (await request.form()).get(CSRF_FIELD)
    if not (token and secrets.compare_digest(str(token), request.state.csrf)):
        _refuse(request, user, "CSRF token missing or wrong")
    return user


ActingDep = Annotated[User, Depends(acting_user)]


async def admin_action(request: Request, user: ActingDep) -> User:
    """An acting user who is an admin: viewers read only."""
    if not user.is_admin:
        _refuse(request, user, "viewers cannot act")
    return user


def _refuse(request: Request, user: User, problem: str) -> None:
    """Audit the refusal and answer 403 with `problem`."""
    request.app.state.audit.record(
        user=user.name,
        action=f"{request.method} {request.url.path}",
        client=_client(request),
        outcome="refused",
        detail=problem,
    )
    raise HTTPException(status_code=403, detail=problem)


def _client(request: Request) -> str | None:
    """The client's address, when the transport knows it."""
    return request.client.host if request.client else None


def settings(request: Request) -> Settings:
    """The running settings."""
    return request.app.state.rt.settings


def runtime(request: Request) -> Runtime:
    """The service's runtime (bus, settings, tasks)."""
    return request.app.state.rt


def monitor(request: Request) -> HealthMonitor:
    """The health monitor."""
    return request.app.state.monitor


def alerts(request: Request) -> AlertEngine:
    """The alert engine."""
    return request.app.state.alerts


AdminDep = Annotated[User, Depends(admin_action)]
SettingsDep = Annotated[Settings, Depends(settings)]
RuntimeDep = Annotated[Runtime, Depends(runtime)]
MonitorDep = Annotated[HealthMonitor, Depends(monitor)]
AlertsDep = Annotated[AlertEngine, Depends(alerts)]
