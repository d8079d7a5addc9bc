"""The login page (/login, public: the one page without a session) and logging out (/logout, behind the
session like every other route)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dashboard.auth.login import LoginRefused, log_in
from dashboard.auth.session import LOGIN_CSRF_COOKIE, SESSION_COOKIE
from dashboard.deps import ActingDep
from dashboard.responses import templates

page = APIRouter(prefix="/login", tags=["login"])
logout_router = APIRouter(prefix="/logout", tags=["login"])


def _form(request: Request, *, error: str = "", status: int = 200) -> HTMLResponse:
    """The login form with a fresh CSRF token (its signed twin in a cookie)."""
    token, cookie = request.app.state.login_tokens.login_token()
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
        max_age=int(request.app.state.login_tokens.ttl_s),
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
    """Check the form's CSRF token, the throttle, then the password; a session (in Redis) on success."""
    client = request.client.host if request.client else ""
    try:
        user = await log_in(request.app.state, username=username, password=password, csrf=csrf,
                            csrf_cookie=request.cookies.get(LOGIN_CSRF_COOKIE), client=client)
    except LoginRefused as e:
        return _form(request, error=e.error, status=e.status)
    response = RedirectResponse("/", status_code=303)
    _cookie(request, response, SESSION_COOKIE,
            await request.app.state.sessions.create(user=user.name, client=client))
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@logout_router.post("", include_in_schema=False)
async def logout(request: Request, user: ActingDep) -> RedirectResponse:
    """End every session of the user, on every browser, at once (their records leave Redis)."""
    ended = await request.app.state.sessions.end_user(user.name)
    request.app.state.audit.record(user=user.name, action="logout", client=request.client.host, outcome="ok",
                                   detail=f"{ended} sessions ended")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
