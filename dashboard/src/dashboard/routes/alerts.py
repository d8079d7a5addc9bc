"""The alert center (/alerts): every alert with its repeats and Telegram delivery; filter, acknowledge, and
its listing live over server-sent events."""

from __future__ import annotations

from typing import Annotated

from common.schemas import Severity
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BeforeValidator

from dashboard import action_models as actions
from dashboard import api_models as models
from dashboard.deps import AdminDep, AlertsDep, UserDep
from dashboard.sse import EventStream, sse
from dashboard.responses import after_action, render

page = APIRouter(prefix="/alerts", tags=["alerts"])
api = APIRouter(prefix="/api/alerts", tags=["alerts"])
# The filter form's "all" sends severity= (empty): no filter, not a bad value.
SeverityQ = Annotated[Severity | None, BeforeValidator(lambda v: v or None), Query()]
# Acknowledgements do not wake the stream: an admin's ack elsewhere shows within this long.
STREAM_EVERY_S = 5.0


@page.get("", response_class=HTMLResponse)
def alerts_page(
    request: Request, user: UserDep, alerts: AlertsDep, severity: SeverityQ = None, unacked: bool = False
):
    """The alert center page."""
    rows = alerts.listing(severity=severity, unacked_only=unacked)
    return render(request, "alerts.html", user=user, rows=rows, severity=severity or "", unacked=unacked)


@api.get("", response_model=models.Alerts)
def list_alerts(alerts: AlertsDep, severity: SeverityQ = None, unacked: bool = False) -> dict:
    """Recent alerts, newest first (the full history is in alert_log.jsonl)."""
    return _listing(alerts, severity=severity, unacked=unacked)


@api.get("/stream", response_class=EventStream)
async def alerts_stream(
    request: Request, alerts: AlertsDep, severity: SeverityQ = None, unacked: bool = False
):
    """Server-sent events: what /api/alerts answers (same filters), on every new alert and every 5 s."""

    async def snapshot() -> dict:
        return _listing(alerts, severity=severity, unacked=unacked)

    return sse(request, snapshot, every_s=STREAM_EVERY_S, changed=alerts.changed)


def _listing(alerts, *, severity: str | None, unacked: bool) -> dict:
    """The badge count and the alerts that pass the filters, newest first."""
    return {"unacked": alerts.unacked(), "alerts": alerts.listing(severity=severity, unacked_only=unacked)}


@api.post("/{alert_id}/ack", response_model=actions.AlertAcked, responses=models.refusals(403, 404))
def acknowledge(request: Request, alert_id: int, user: AdminDep, alerts: AlertsDep):
    """Acknowledge one alert (admin)."""
    rec = alerts.acknowledge(alert_id, user=user.name)
    if rec is None:
        raise HTTPException(status_code=404, detail=f"no alert {alert_id}")
    request.app.state.audit.record(user=user.name, action="ack alert", client=request.client.host,
                                   outcome="ok", detail=f"{alert_id} {rec.key}")
    return after_action(request, back="/alerts", result={"id": alert_id, "acked_by": rec.acked_by})
