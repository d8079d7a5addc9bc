"""The FastAPI application: private routers behind a session, public ones beside them, security headers.

State lives on `app.state`, built here from the runtime (no globals): the monitor, the alert engine,
users, sessions (in Redis), the login form's tokens, login throttle and audit log.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from common.bus import HANDLER_REDIS_DOWN
from common.lifecycle import Runtime
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from dashboard.alert_engine import AlertEngine
from dashboard.auth.access import (
    allowed_hosts,
    allowed_networks,
    client_allowed,
    direct_loopback,
    host_allowed,
    open_mode,
)
from dashboard.auth.audit import Audit
from dashboard.auth.proxy import ProxyHeaders, parse_networks
from dashboard.body_limit import BodyLimit
from dashboard.auth.session import LoginTokens, session_secret
from dashboard.auth.session_store import SessionStore
from dashboard.auth.throttle import Throttle
from dashboard.auth.users import UserStore
from dashboard.deps import LoginRequired, SessionDep
from dashboard.health_monitor import HealthMonitor
from dashboard.routes import (
    alerts,
    config,
    deploys,
    jobs,
    latency,
    login,
    market,
    overview,
    positions,
    probes,
    profiles,
    quality,
    safe_mode,
    scenarios,
    services,
    sessions,
    signals,
    trades,
)
from dashboard.scenarios.runner import Runner
from dashboard.config_versions import ConfigVersions

HERE = Path(__file__).parent
# One routes module per page (routes/<page>.py = templates/<page>.html = static/<page>.js), each with its
# page router and its JSON API router. Everything here needs a session; only PUBLIC is reachable without.
PUBLIC = (probes.router, login.page)
PRIVATE = (
    overview.page, overview.api,
    services.page, services.api,
    safe_mode.page, safe_mode.api,
    positions.page, positions.api,
    trades.page, trades.api, trades.equity_api,
    market.page, market.api,
    quality.page, quality.api,
    latency.page, latency.api,
    signals.page, signals.api,
    profiles.page, profiles.api,
    jobs.page, jobs.api,
    deploys.page, deploys.api,
    alerts.page, alerts.api,
    scenarios.page, scenarios.api,
    config.page, config.api,
    sessions.page, sessions.api,
    login.logout_router,
)
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000"  # a year, sent only over https (the proxy's)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def create_app(*, rt: Runtime, monitor: HealthMonitor, alerts: AlertEngine) -> FastAPI:
    """The app with its state on `app.state`, its routers (private unless PUBLIC) and its guards."""
    settings = rt.settings
    app = FastAPI(
        title="Scalper dashboard", version=rt.version, openapi_url=None, docs_url=None, redoc_url=None
    )
    app.state.rt, app.state.monitor, app.state.alerts = rt, monitor, alerts
    app.state.open_mode = open_mode(settings)
    app.state.users = UserStore(settings)
    app.state.login_tokens = LoginTokens(secret=session_secret(settings), ttl_s=settings.session_ttl_s)
    app.state.sessions = SessionStore(rt.bus.redis, ttl_s=settings.session_ttl_s)
    app.state.throttle = Throttle(
        rt.bus.redis, max_failures=settings.login_max_failures, lockout_s=settings.login_lockout_s,
        user_interval_s=settings.login_user_interval_s,
    )
    app.state.bcrypt_slots = asyncio.Semaphore(os.cpu_count() or 1)  # password checks running at once
    app.state.audit = Audit(settings.data_dir)
    app.state.versions = ConfigVersions(settings.data_dir)
    app.state.scenarios = Runner(rt=rt, monitor=monitor, alerts=alerts)
    app.state.versions.record(settings.public_view(), by="start")
    networks, hosts = allowed_networks(settings), allowed_hosts(settings)

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for router in PUBLIC:
        app.include_router(router)
    for router in PRIVATE:
        app.include_router(router, dependencies=[SessionDep])

    @app.get("/api/openapi.json", include_in_schema=False, dependencies=[SessionDep])
    def openapi() -> dict:
        """The JSON API's OpenAPI schema (behind the session like the API itself)."""
        return app.openapi()

    async def redis_down(_request: Request, exc: Exception) -> JSONResponse:
        """Redis unreachable: a 503 that says to try again, never a crash."""
        return JSONResponse({"detail": f"Redis unreachable, try again: {type(exc).__name__}"}, status_code=503)

    for exc in HANDLER_REDIS_DOWN:
        app.add_exception_handler(exc, redis_down)

    @app.exception_handler(LoginRequired)
    def login_required(request: Request, _exc: LoginRequired):
        """No session: a page redirects to /login, the API answers 401."""
        if request.method == "GET" and not request.url.path.startswith("/api/"):
            return RedirectResponse("/login", status_code=303)
        return JSONResponse({"detail": "login required"}, status_code=401)

    @app.middleware("http")
    async def guard(request: Request, call_next):
        """The Host allow-list and the client allow-list, then the security headers on every answer (HSTS
        when the original scheme is https)."""
        host = request.client.host if request.client else None
        if not host_allowed(request, hosts):
            response = JSONResponse({"detail": "Host not allowed (WEB_ALLOWED_HOSTS)"}, status_code=400)
        elif not (direct_loopback(request) or client_allowed(host, networks)):
            response = JSONResponse({"detail": "client network not allowed"}, status_code=403)
        else:
            response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if request.url.scheme == "https":
            response.headers["Strict-Transport-Security"] = HSTS
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.add_middleware(ProxyHeaders, trusted=parse_networks(settings.web_trusted_proxies))
    app.add_middleware(BodyLimit, max_bytes=settings.web_max_body_kib * 1024)  # outermost: before any parsing
    return app
