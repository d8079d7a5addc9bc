"""The alert center live: its listing as server-sent events on every new alert, at least every few s."""

from __future__ import annotations

from fastapi import APIRouter, Request

from dashboard.deps import AlertsDep
from dashboard.routes.alerts import SeverityQ
from dashboard.live import EventStream, sse

router = APIRouter(tags=["alerts"])
# Acknowledgements do not wake the stream: an admin's ack elsewhere shows within this long.
EVERY_S = 5.0


@router.get("/api/alerts/stream", response_class=EventStream)
async def alerts_stream(
    request: Request,
    alerts: AlertsDep,
    severity: SeverityQ = None,
    unacked: bool = False,
):
    """Server-sent events: what /api/alerts answers (same filters), on every new alert and every 5 s."""

    async def snapshot() -> dict:
        rows = alerts.listing(severity=severity, unacked_only=unacked)
        return {"unacked": alerts.unacked(), "alerts": rows}

    return sse(request, snapshot, every_s=EVERY_S, changed=alerts.changed)
