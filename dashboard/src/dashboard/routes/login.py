"""The login page (/login, public: the one page without a session) and logging out (/logout, behind the
session like every other route)."""

from __future__ import annotations

import logging
from typing import Annotated

from common.bus import REDIS_DOWN
from common.schemas import Severity
from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dashboard.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE
from dashboard.deps import ActingDep
from dashboard.responses import templates

log = logging.getLogger(__name__)
page = APIRouter(prefix="/login", tags=["login"])
logout_router = APIRouter(prefix="/logout", tags=["login"])


def _form(request: Request, *, error: str = "", status: int = 200) -> HTMLResponse:
    """The login form with a fresh CSRF token (its signed twin in a cookie)."""
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
    """An HttpOnly, SameSite=strict cookie that lives as long as a session (Secure over HTTPS)."""
    response.set_cookie(
        name,
        value,
        max_age=int(request.app.state.sessions.ttl_s),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


@page.get("", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request) -> HTMLResponse:
    """The login form (with its CSRF token)."""
    return _form(request)


@page.post("", response_class=HTMLResponse, include_in_schema=False)
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
    """A CRIT alert for a lockout; Redis being down only costs the alert, never the answer."""
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


@logout_router.post("", include_in_schema=False)
def logout(request: Request, user: ActingDep) -> RedirectResponse:
    """End the session (the signed cookie is dropped; it also expires by itself)."""
    request.app.state.audit.record(user=user.name, action="logout", client=request.client.host, outcome="ok")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
