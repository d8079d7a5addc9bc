"""The sessions page (/sessions): who is logged in, from where, last seen; an admin revokes a session or
lifts a user's login lockout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse

from dashboard import action_models as actions
from dashboard import api_models as models
from dashboard import operations_models as ops
from dashboard.deps import AdminDep, UserDep
from dashboard.responses import after_action, render

page = APIRouter(prefix="/sessions", tags=["sessions"])
api = APIRouter(prefix="/api/sessions", tags=["sessions"])


async def _rows(request: Request) -> list[dict]:
    """The live sessions as the page and the API show them."""
    current = getattr(request.state, "session", "")
    return [{"handle": s.handle, "user": s.user, "client": s.client, "started_ms": s.started_ms,
             "seen_ms": s.seen_ms, "current": s.handle == current}
            for s in await request.app.state.sessions.active()]


@page.get("", response_class=HTMLResponse)
async def sessions_page(request: Request, user: UserDep):
    """The live sessions, with revoke and unlock for an admin."""
    return render(request, "sessions.html", user=user, rows=await _rows(request))


@api.get("", response_model=ops.Sessions)
async def list_sessions(request: Request) -> dict:
    """Every live session, the most recently seen first."""
    return {"sessions": await _rows(request)}


@api.post("/{handle}/revoke", response_model=actions.SessionRevoked, responses=models.refusals(400, 403, 404))
async def revoke_session(request: Request, handle: str, user: AdminDep):
    """End another session at once (admin); one's own ends with logging out."""
    if handle == getattr(request.state, "session", None):
        raise HTTPException(status_code=400, detail="this is your own session: log out instead")
    if not await request.app.state.sessions.revoke(handle):
        raise HTTPException(status_code=404, detail="no such session")
    request.app.state.audit.record(user=user.name, action="revoke session", client=request.client.host,
                                   outcome="ok", detail=handle[:12])
    return after_action(request, back="/sessions", result={"handle": handle})


@api.post("/unlock", response_model=actions.UserUnlocked, responses=models.refusals(403))
async def unlock_user(request: Request, user: AdminDep, name: Annotated[str, Form(max_length=200)]):
    """Lift a user's login lockouts, as `scalperctl user unlock NAME` does (admin)."""
    records = await request.app.state.throttle.unlock(name)
    request.app.state.audit.record(user=user.name, action=f"unlock {name}", client=request.client.host,
                                   outcome="ok", detail=f"{records} records")
    return after_action(request, back="/sessions", result={"user": name, "records": records})
