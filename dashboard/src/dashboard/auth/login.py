"""Logging in through the form: the form's CSRF token, the lockouts, then the password. Every attempt is
audited; a lockout is raised as a CRIT alert."""

from __future__ import annotations

import logging

from common.bus import REDIS_DOWN
from common.schemas import Severity
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State

from common import constants as c
from dashboard.auth.users import User

log = logging.getLogger(__name__)


class LoginRefused(Exception):
    """Why the login form is shown again, and the HTTP status it is shown with."""

    def __init__(self, error: str, status: int) -> None:
        super().__init__(error)
        self.error, self.status = error, status


async def log_in(state: State, *, username: str, password: str, csrf: str, csrf_cookie: str | None,
                 client: str) -> User:
    """The user to issue a session to; LoginRefused otherwise. `state` is the app's (sessions, throttle,
    users, audit, runtime); the lockouts count per user name and per client address."""
    keys = (f"user:{username}", f"addr:{client}")
    if state.open_mode:
        raise LoginRefused("open local mode: no login until an admin is configured", 403)
    if not state.sessions.login_token_ok(csrf_cookie, csrf):
        state.audit.record(user=username, action="login", client=client, outcome="refused", detail="CSRF")
        raise LoginRefused("the form expired, try again", 403)
    left = await state.throttle.locked(*keys)
    if left:
        state.audit.record(
            user=username, action="login", client=client, outcome="locked", detail=f"{left:.0f} s left"
        )
        raise LoginRefused(f"too many wrong passwords: locked for {left:.0f} s", 429)
    user = await run_in_threadpool(state.users.verify, username, password)
    if user is None:
        state.audit.record(user=username, action="login", client=client, outcome="wrong password")
        for key in await state.throttle.failed(*keys):
            await _lockout_alert(state, key)
        raise LoginRefused("wrong user name or password", 401)
    await state.throttle.succeeded(*keys)
    state.audit.record(user=user.name, action="login", client=client, outcome="ok")
    return user


async def _lockout_alert(state: State, key: str) -> None:
    """A CRIT alert for a lockout; Redis being down only costs the alert, never the answer."""
    log.warning("login_lockout", extra={"ctx": {"who": key}})
    try:
        await state.rt.bus.alert(
            key=c.lockout_alert_key(key),
            severity=Severity.CRIT,
            title="dashboard login locked out",
            detail=f"{state.throttle.max_failures} wrong passwords in a row for {key}",
        )
    except REDIS_DOWN as e:
        log.warning("alert_failed", extra={"ctx": {"error": str(e)}})
