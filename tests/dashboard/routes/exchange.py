"""The dashboard's route tests against a cluster on the simulator: an admin session once execution trades,
and the simulator asked over REST, as any Bybit client would ask it, what it holds."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx
from common.bybit.http import BybitHttp
from common.bybit.rest import BybitRest

from tests.dashboard.conftest import Dashboard, dashboard_up
from tests.support import wait_until

T = TypeVar("T")


def trading_admin(cluster) -> tuple[Dashboard, httpx.Client]:
    """The cluster's dashboard and an admin session on it, once execution is NORMAL after booting."""
    d = Dashboard(cluster.base, cluster.env, cluster.procs["dashboard"])
    wait_until(lambda: dashboard_up(d.base), timeout=30, interval=0.2, what="dashboard /healthz")
    admin = d.session()
    wait_until(lambda: (admin.get("/api/safe-mode").json()["execution"] or {}).get("state") == "NORMAL",
               timeout=60, interval=0.5, what="execution NORMAL after its boot recovery")
    return d, admin


def on_exchange(env: dict[str, str], ask: Callable[[BybitRest], Awaitable[T]]) -> T:
    """`ask(rest)` against the simulator in `env` (BYBIT_REST_URL and the API key), closed after."""

    async def run() -> T:
        http = BybitHttp(base_url=env["BYBIT_REST_URL"], api_key=env["BYBIT_API_KEY"],
                         api_secret=env["BYBIT_API_SECRET"])
        try:
            return await ask(BybitRest(http))
        finally:
            await http.aclose()

    return asyncio.run(run())
