"""How a route answers: a rendered page (every page gets the user, the CSRF token, the alert badge, the
mode banner and the release the services run), or after an action a redirect back to the page or JSON.

Templates whose name starts with "_" are shared parts (the layout, the facts table), not pages.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from dashboard import formatting, running_versions
from dashboard.auth.users import User

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters.update(formatting.FILTERS)
NAV = [
    ("/", "overview"),
    ("/services", "services"),
    ("/safe-mode", "safe mode"),
    ("/positions", "positions"),
    ("/trades", "trades"),
    ("/market", "market"),
    ("/quality", "execution quality"),
    ("/latency", "latency"),
    ("/signals", "signals"),
    ("/profiles", "profiles"),
    ("/jobs", "jobs"),
    ("/deploys", "deploys"),
    ("/alerts", "alerts"),
    ("/scenarios", "integration tests"),
    ("/config", "config"),
    ("/sessions", "sessions"),
]


def render(request: Request, template: str, *, user: User, **ctx):
    """`template` with the header every page shares, then `ctx`."""
    state = request.app.state
    return templates.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "open_mode": state.open_mode,
            "csrf": getattr(request.state, "csrf", ""),
            "alerts_unacked": state.alerts.unacked(),
            "nav": NAV,
            "cluster": state.rt.settings.service_cluster_id,
            "mode": state.rt.settings.execution_mode.value,
            "release": running_versions.cluster(state.monitor),
            **ctx,
        },
    )


def after_action(request: Request, *, back: str, result: dict):
    """A browser's form post goes back to its page (303); an API call gets the result as JSON."""
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse(back, status_code=303)
    return JSONResponse(result)
