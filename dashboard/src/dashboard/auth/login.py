"""Logging in through the form: the form's CSRF token, then a reservation from the throttle (one Lua call,
before any bcrypt work), then the password. Every attempt is audited; lockouts raise one CRIT alert per
ALERT_DEDUP_S window, carrying counts only (never a typed name)."""

from __future__ import annotations

import asyncio
import logging

from common.bus import REDIS_DOWN
from common.schemas import Severity
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State

from common import constants as c
from dashboard.auth.users import User

log = logging.getLogger(__name__)

# Count one lockout; when no alert went out in this window (ARGV[1] ms), mark the window and return the
# lockouts counted since the last alert, else 0. KEYS: the counter, the window's marker.
_COUNT_LOCKOUT = """
redis.call('INCR', KEYS[1])
if redis.call('SET', KEYS[2], 1, 'NX', 'PX', ARGV[1]) then
  return tonumber(redis.call('GETDEL', KEYS[1]))
end
return 0
"""


class LoginRefused(Exception):
    """Why the login form is shown again, and the HTTP status it is shown with."""

    def __init__(self, error: str, status: int) -> None:
        super().__init__(error)
        self.error, self.status = error, status


async def log_in(state: State, *, username: str, password: str, csrf: str, csrf_cookie: str | None,
                 client: str) -> User:
    """The user to issue a session to; LoginRefused otherwise. `state` is the app's (login tokens, throttle,
    users, audit, runtime). Only an attempt the throttle granted reaches bcrypt."""
    if state.open_mode:
        raise LoginRefused("open local mode: no login until an admin is configured", 403)
    if not state.login_tokens.login_token_ok(csrf_cookie, csrf):
        state.audit.record(user=username, action="login", client=client, outcome="refused", detail="CSRF")
        raise LoginRefused("the form expired, try again", 403)
    turn = await state.throttle.reserve(user=username, client=client)
    if turn.locked_s:
        state.audit.record(user=username, action="login", client=client, outcome="locked",
                           detail=f"{turn.locked_s:.0f} s left")
        raise LoginRefused(f"too many wrong passwords: locked for {turn.locked_s:.0f} s", 429)
    if turn.busy_s:
        state.audit.record(user=username, action="login", client=client, outcome="slowed",
                           detail=f"next turn in {turn.busy_s:.0f} s")
        raise LoginRefused(f"too many wrong passwords for this user: try again in {turn.busy_s:.0f} s", 429)
    if turn.wait_s:
        await asyncio.sleep(turn.wait_s)
    async with state.bcrypt_slots:  # one bcrypt per core at a time: the event loop keeps answering
        user = await run_in_threadpool(state.users.verify, username, password)
    if user is None:
        state.audit.record(user=username, action="login", client=client, outcome="wrong password")
        if turn.locked_bits:
            await _lockout_alert(state)
        raise LoginRefused("wrong user name or password", 401)
    await state.throttle.succeeded(user=username, client=client, reservation=turn)
    state.audit.record(user=user.name, action="login", client=client, outcome="ok")
    return user


async def _lockout_alert(state: State) -> None:
    """Count a lockout; the first of an ALERT_DEDUP_S window raises a CRIT alert with the count since the
    last one. Redis being down only costs the alert, never the answer."""
    window_ms = int(state.rt.settings.alert_dedup_s * 1000)
    try:
        count = await state.rt.bus.redis.eval(
            _COUNT_LOCKOUT, 2, c.LOGIN_LOCKOUTS_KEY, c.LOGIN_LOCKOUT_ALERTED_KEY, window_ms
        )
        log.warning("login_lockout", extra={"ctx": {"alerting": bool(count)}})
        if count:
            await state.rt.bus.alert(
                key=c.LOCKOUT_ALERT_KEY,
                severity=Severity.CRIT,
                title="dashboard login locked out",
                detail=f"{count} lockout(s) after {state.throttle.max_failures} wrong passwords since the "
                "last alert; who and from where is in the audit log",
            )
    except REDIS_DOWN as e:
        log.warning("alert_failed", extra={"ctx": {"error": type(e).__name__}})
