"""CPU of our process per REST request: the connector (`common.bybit.http`, aiohttp) against bare
aiohttp and bare httpx, the same requests to the same simulator.

    uv run python bench/rest_client.py [--requests 1500] [--rounds 3]

Each request waits for its reply before the next (one connection, kept alive), so the figure is the
client's own cost, not the simulator's: `time.process_time()` of this process over the requests,
divided by their number, min over rounds (the figure that moves least with a noisy machine). Paths:
- **connector GET**: `BybitHttp.get("/v5/market/time")`, envelope and result decoded;
- **aiohttp GET / POST**, **httpx GET / POST**: the same GET, and a POST of an order's bytes with
  Bybit's signed headers (the simulator refuses its signature at once: the reply is the same size
  class as an order's), each body read.
Rounds alternate the order of the paths. The ratio is each path against bare aiohttp's.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import httpx
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support.processes import KEY, Platform  # noqa: E402
from common.bybit.http import BybitHttp  # noqa: E402
from common.bybit.schemas.envelope import ServerTime  # noqa: E402

TIME, CREATE = "/v5/market/time", "/v5/order/create"
BODY = b'{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.001"}'
HEADERS = {"Content-Type": "application/json", "X-BAPI-API-KEY": KEY, "X-BAPI-TIMESTAMP": "0",
           "X-BAPI-SIGN-TYPE": "2", "X-BAPI-RECV-WINDOW": "5000", "X-BAPI-SIGN": "0" * 64}


async def cpu_per_request(fn: Callable[[], Awaitable[None]], n: int) -> float:
    for _ in range(50):  # warm: connection open, caches filled
        await fn()
    t0 = time.process_time()
    for _ in range(n):
        await fn()
    return (time.process_time() - t0) / n * 1e6


async def one_round(url: str, n: int, reverse: bool) -> dict[str, float]:
    connector = BybitHttp(base_url=url, time_sync=False)
    session = aiohttp.ClientSession()
    client = httpx.AsyncClient(base_url=url)

    async def aio(method: str, path: str) -> None:
        async with session.request(method, url + path, data=BODY if method == "POST" else None,
                                   headers=HEADERS) as r:
            await r.read()

    async def hx(method: str, path: str) -> None:
        r = await client.request(method, path, content=BODY if method == "POST" else None, headers=HEADERS)
        r.content  # noqa: B018 (read)

    paths: dict[str, Callable[[], Awaitable[None]]] = {
        "connector GET": lambda: connector.get(TIME, {}, ServerTime, auth=False),
        "aiohttp GET": lambda: aio("GET", TIME),
        "httpx GET": lambda: hx("GET", TIME),
        "aiohttp POST": lambda: aio("POST", CREATE),
        "httpx POST": lambda: hx("POST", CREATE),
    }
    try:
        order = list(paths)[::-1] if reverse else list(paths)
        return {name: await cpu_per_request(paths[name], n) for name in order}
    finally:
        await connector.aclose()
        await session.close()
        await client.aclose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=1500)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d, Platform(Path(d), symbols=["BTCUSDT"]) as p:
        rounds = [uvloop.run(one_round(p.urls["rest"], args.requests, reverse=bool(r % 2)))
                  for r in range(args.rounds)]
    print(f"{'path':<16}{'min us':>9}{'median us':>11}{'x aiohttp':>11}")
    for name in rounds[0]:
        xs = [r[name] for r in rounds]
        base = min(r["aiohttp " + name.split()[-1]] for r in rounds)
        print(f"{name:<16}{min(xs):>9.0f}{statistics.median(xs):>11.0f}{min(xs) / base:>10.2f}x")


if __name__ == "__main__":
    main()
