"""The alert center: every alert with its repeats and Telegram delivery; filter and acknowledge."""

from __future__ import annotations

from typing import Annotated

from common.schemas import Severity
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BeforeValidator

from dashboard import api_models as api
from dashboard.deps import AdminDep, AlertsDep, UserDep
from dashboard.pages import after_action, render

router = APIRouter(tags=["alerts"])
# The filter form's "all" sends severity= (empty): no filter, not a bad value.
SeverityQ = Annotated[Severity | None, BeforeValidator(lambda v: v or None), Query()]


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request, user: UserDep, alerts: AlertsDep, severity: SeverityQ = None, unacked: bool = False
):
    """The alert center page."""
    return render(
        request,
        "alerts.html",
        user=user,
        rows=alerts.listing(severity=severity, unacked_only=unacked),
        severity=severity or "",
        unacked=unacked,
    )


@router.get("/api/alerts", response_model=api.Alerts)
def list_alerts(alerts: AlertsDep, severity: SeverityQ = None, unacked: bool = False) -> dict:
    """Recent alerts, newest first (the full history is in alert_log.jsonl)."""
    return {"unacked": alerts.unacked(), "alerts": alerts.listing(severity=severity, unacked_only=unacked)}


@router.post("/api/alerts/{alert_id}/ack", response_model=api.AlertAcked,
             responses=api.refusals(403, 404))
def acknowledge(request: Request, alert_id: int, user: AdminDep, alerts: AlertsDep):
    """Acknowledge one alert (admin)."""
    rec = alerts.acknowledge(alert_id, user=user.name)
    if rec is None:
        raise HTTPException(status_code=404, detail=f"no alert {alert_id}")
    request.app.state.audit.record(
        user=user.name,
        action="ack alert",
        client=request.client.host,
        outcome="ok",
        detail=f"{alert_id} {rec.key}",
    )
    return after_action(request, back="/alerts", result={"id": alert_id, "acked_by": rec.acked_by})
