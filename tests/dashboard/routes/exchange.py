"""Ask the simulator over REST, as any Bybit client would, what it holds (for the dashboard's route tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from common.bybit.http import BybitHttp
from common.bybit.rest import BybitRest

T = TypeVar("T")


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
