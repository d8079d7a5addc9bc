"""Probes for machines, public (no session): the dashboard's liveness and its Prometheus metrics.

Not a page: /healthz and /metrics are two root URLs that scrapers and supervisors know, so the router has
no prefix."""

from __future__ import annotations

import secrets

from common.schemas import now_ns
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from dashboard import api_models as models
from dashboard.auth.access import direct_loopback
from dashboard.deps import MonitorDep, SettingsDep

router = APIRouter(prefix="", tags=["probes"])
# /healthz fails when no heartbeat (our own included) arrived for this long: the monitor is stuck.
HEALTHZ_STALE_S = 5.0


@router.get("/healthz", response_model=models.Liveness, responses={503: {"model": models.Liveness}})
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
    loopback = direct_loopback(request)
    if not (request.app.state.open_mode or loopback or (token and secrets.compare_digest(given, token))):
        return JSONResponse({"detail": "scrape token required"}, status_code=401)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
