"""The only routes without a session: liveness, Prometheus metrics (token or loopback) and login."""

from __future__ import annotations

import logging
import secrets
from typing import Annotated

from common.bus import REDIS_DOWN
from common.schemas import Severity, now_ns
from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from dashboard import api_models as api
from dashboard.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, is_loopback
from dashboard.deps import MonitorDep, SettingsDep
from dashboard.pages import templates

log = logging.getLogger(__name__)
router = APIRouter(tags=["public"])
# /healthz fails when no heartbeat (our own included) arrived for this long: the monitor is stuck.
HEALTHZ_STALE_S = 5.0


@router.get("/healthz", response_model=api.Liveness, responses={503: {"model": api.Liveness}})
def healthz(monitor: MonitorDep) -> JSONResponse:
    """Liveness of the dashboard itself: its monitor is receiving heartbeats."""
    age = (now_ns() - monitor.last_heartbeat_ns) / 1e9
    ok = age < HEALTHZ_STALE_S
    return JSONResponse(
        {"status": "ok" if ok else "stale", "last_heartbeat_age_s": round(age, 2)},
        status_code=200 if ok else 503,
    )


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, settings: SettingsDep) -> Response:
    """Prometheus metrics: for loopback scrapers, or with `Authorization: Bearer METRICS_TOKEN`."""
    token = settings.metrics_token.get_secret_value()
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    loopback = request.client is not None and is_loopback(request.client.host)
    if not (request.app.state.open_mode or loopback or (token and secrets.compare_digest(given, token))):
        return JSONResponse({"detail": "scrape token required"}, status_code=401)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _form(request: Request, *, error: str = "", status: int = 200) -> HTMLResponse:
    token, cookie = request.app.state.sessions.login_token()
    response = templates.TemplateResponse(
        request,
        "login.html",
        {"csrf": token, "error": error, "open_mode": request.app.state.open_mode},
        status_code=status,
    )
    _cookie(request, response, LOGIN_CSRF_COOKIE, cookie)
    return response


def _cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        max_age=int(request.app.state.sessions.ttl_s),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request) -> HTMLResponse:
    """The login form (with its CSRF token)."""
    return _form(request)


@router.post("/login", response_class=HTMLResponse, include_in_schema=False)
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form()] = "",
):
    """Check the form's CSRF token, the lockouts, then the password; a session cookie on success."""
    state = request.app.state
    client = request.client.host if request.client else ""
    keys = (f"user:{username}", f"addr:{client}")
    if state.open_mode:
        return _form(request, error="open local mode: no login until an admin is configured", status=403)
    if not state.sessions.login_token_ok(request.cookies.get(LOGIN_CSRF_COOKIE), csrf):
        state.audit.record(user=username, action="login", client=client, outcome="refused", detail="CSRF")
        return _form(request, error="the form expired, try again", status=403)
    left = await state.throttle.locked(*keys)
    if left:
        state.audit.record(
            user=username, action="login", client=client, outcome="locked", detail=f"{left:.0f} s left"
        )
        return _form(request, error=f"too many wrong passwords: locked for {left:.0f} s", status=429)
    user = await run_in_threadpool(state.users.verify, username, password)
    if user is None:
        state.audit.record(user=username, action="login", client=client, outcome="wrong password")
        for key in await state.throttle.failed(*keys):
            await _lockout_alert(request, key)
        return _form(request, error="wrong user name or password", status=401)
    await state.throttle.succeeded(*keys)
    state.audit.record(user=user.name, action="login", client=client, outcome="ok")
    response = RedirectResponse("/", status_code=303)
    _cookie(request, response, SESSION_COOKIE, state.sessions.issue(user.name))
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


async def _lockout_alert(request: Request, key: str) -> None:
    state = request.app.state
    log.warning("login_lockout", extra={"ctx": {"who": key}})
    try:
        await state.rt.bus.alert(
            key=f"lockout:{key}",
            severity=Severity.CRIT,
            title="dashboard login locked out",
            detail=f"{state.throttle.max_failures} wrong passwords in a row for {key}",
        )
    except REDIS_DOWN as e:
        log.warning("alert_failed", extra={"ctx": {"error": str(e)}})
