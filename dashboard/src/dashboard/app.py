"""The FastAPI application: health API, live page, metrics."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from common.schemas import now_ns
from dashboard.monitor import HealthMonitor

HERE = Path(__file__).parent
# /healthz fails when no heartbeat (our own included) arrived for this long: the monitor is stuck.
HEALTHZ_STALE_S = 5.0
SSE_KEEPALIVE_S = 2.0


def create_app(monitor: HealthMonitor) -> FastAPI:
    app = FastAPI(title="Scalper dashboard", version=monitor.rt.version)
    app.state.monitor = monitor
    templates = Jinja2Templates(directory=HERE / "templates")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/healthz", tags=["health"])
    def healthz() -> JSONResponse:
        """Liveness of the dashboard itself: its monitor is receiving heartbeats."""
        age = (now_ns() - monitor.last_heartbeat_ns) / 1e9
        ok = age < HEALTHZ_STALE_S
        return JSONResponse({"status": "ok" if ok else "stale", "last_heartbeat_age_s": round(age, 2)},
                            status_code=200 if ok else 503)

    @app.get("/api/health", tags=["health"])
    def health() -> dict:
        """Every service GREEN / YELLOW / RED with its facts."""
        return monitor.snapshot()

    @app.get("/api/health/stream", tags=["health"])
    async def health_stream(request: Request) -> StreamingResponse:
        """Server-sent events: the health snapshot on every change, and at least every 2 s."""

        async def events():
            while not await request.is_disconnected():
                yield b"data: " + msgspec.json.encode(monitor.snapshot()) + b"\n\n"
                async with monitor.changed:
                    try:
                        await asyncio.wait_for(monitor.changed.wait(), SSE_KEEPALIVE_S)
                    except TimeoutError:
                        pass

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @app.get("/metrics", tags=["health"], include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/", response_class=HTMLResponse, tags=["pages"])
    def overview(request: Request):
        return templates.TemplateResponse(request, "overview.html", {"health": monitor.snapshot()})

    return app
