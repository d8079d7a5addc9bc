"""The dashboard under load while the platform runs: overview + SSE for 50 clients, and the platform's
own bus hop latency with and without that load, in the same run.

    uv run python bench/dashboard_load.py [--clients 50] [--seconds 15] [--rounds 2]

Starts its own redis-server, the exchange simulator and the five services (admin configured, so
every request carries a real session cookie). Each round measures a quiet window, then a loaded one:
half the clients hold /api/health/stream open (SSE), the other half load the overview page `/` once
every --page-interval s (an operator's browser; 0 = flat out, a capacity test). Throughout, a reader
in its own process takes `market.book` from Redis and records the hop latency (its receive time minus
the market service's published_ts_ns), so the report shows whether the dashboard's load moves the
platform: p50/p99 hop quiet vs loaded, plus the dashboard's p50/p99 page latency, pages/s and SSE
events received. Figures are medians over rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bcrypt
import httpx
import redis.asyncio as aioredis
from common.schemas import BookTop, decode

from common import constants as c

BIN = Path(sys.executable).parent
SERVICES = ("market", "strategy", "execution", "dashboard", "worker")
USER, PASSWORD = "bench", "bench-Pa55word"
WARMUP_S = 2.0  # page samples of each window's first seconds are dropped (50 connections opening)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(xs: list[float], q: float) -> float:
    return statistics.quantiles(xs, n=100)[q - 1] if len(xs) >= 2 else float("nan")


def start(tmp: Path) -> tuple[list[subprocess.Popen], str, str]:
    """redis-server, simulator, five services; returns (processes, dashboard base URL, redis URL)."""
    procs = []
    rport = free_port()
    procs.append(
        subprocess.Popen(
            ["redis-server", "--port", str(rport), "--save", "", "--bind", "127.0.0.1"],
            stdout=subprocess.DEVNULL,
        )
    )
    sim_out = tmp / "sim.out"
    with sim_out.open("wb") as out:  # the child keeps its own descriptor
        procs.append(
            subprocess.Popen(
                [
                    str(BIN / "scalper-exchange-sim"),
                    "--port",
                    "0",
                    "--api-key",
                    "k",
                    "--api-secret",
                    "s",
                    "--symbols",
                    "BTCUSDT,ETHUSDT",
                    "--seed",
                    "7",
                    "--balance",
                    "100000",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        )
    deadline = time.monotonic() + 30
    while not sim_out.read_text().endswith("\n"):
        if time.monotonic() > deadline:
            raise SystemExit("the simulator printed no URL line")
        time.sleep(0.2)
    urls = json.loads(sim_out.read_text().splitlines()[0])
    web = free_port()
    env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
    env.update({f"{s.upper()}_METRICS_PORT": "0" for s in SERVICES})
    env.update(
        REDIS_URL=f"redis://127.0.0.1:{rport}/0",
        SCALPER_ENV_FILE="/nonexistent/.env",
        WEB_PORT=str(web),
        DATA_DIR=str(tmp / "data"),
        EXECUTION_MODE="SIM",
        SYMBOLS="BTCUSDT,ETHUSDT",
        BYBIT_REST_URL=urls["rest"],
        BYBIT_WS_PUBLIC_URL=urls["ws_public"],
        BYBIT_WS_PRIVATE_URL=urls["ws_private"],
        BYBIT_API_KEY="k",
        BYBIT_API_SECRET="s",
        ADMIN_USERNAME=USER,
        ADMIN_PASSWORD_HASH=bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode(),
    )
    for name in SERVICES:
        with (tmp / f"{name}.log").open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [str(BIN / f"scalper-{name}")], env=env, stdout=out, stderr=subprocess.STDOUT
                )
            )
    return procs, f"http://127.0.0.1:{web}", env["REDIS_URL"]


async def login(base: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=base, timeout=10) as c:
        deadline = time.monotonic() + 60
        while True:
            try:
                if (await c.get("/healthz")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the dashboard did not come up")
            await asyncio.sleep(0.5)
        token = re.search(r'name="csrf" value="([^"]+)"', (await c.get("/login")).text).group(1)
        r = await c.post("/login", data={"username": USER, "password": PASSWORD, "csrf": token})
        assert r.status_code == 303, r.text
        while True:  # the platform warmed up: five GREEN
            h = (await c.get("/api/health")).json()
            if sum(s["status"] == "GREEN" for s in h["services"]) == 5:
                return {"scalper_session": c.cookies["scalper_session"]}
            if time.monotonic() > deadline + 60:
                raise SystemExit(f"not five GREEN: {[(s['name'], s['reason']) for s in h['services']]}")
            await asyncio.sleep(0.5)


async def hops(redis_url: str, stop: asyncio.Event, out: list[float]) -> None:
    """market.book hop latency (ms): receive time here minus the market service's publish time."""
    r = aioredis.from_url(redis_url)
    last = "$"
    while not stop.is_set():
        res = await r.xread({c.MARKET_BOOK: last}, block=200, count=1000)
        now = time.time_ns()
        for _, entries in res or []:
            for entry_id, fields in entries:
                last = entry_id
                msg = decode(fields[c.PAYLOAD_FIELD])
                if isinstance(msg, BookTop) and msg.published_ts_ns:
                    out.append((now - msg.published_ts_ns) / 1e6)
    await r.aclose()


def hop_reader(redis_url: str, seconds: float) -> None:
    """Child-process mode: measure hops for `seconds` and print them as JSON (kept out of the load's loop)."""

    async def run() -> list[float]:
        stop, out = asyncio.Event(), []
        task = asyncio.create_task(hops(redis_url, stop, out))
        await asyncio.sleep(seconds)
        stop.set()
        await task
        return out

    print(json.dumps(asyncio.run(run())))


async def page_client(
    base: str, cookies: dict, stop: asyncio.Event, lat: list[float], interval: float
) -> None:
    """One operator's browser: the overview every `interval` s (0: as fast as it answers)."""
    async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=30) as c:
        while not stop.is_set():
            t = time.perf_counter()
            r = await c.get("/")
            if r.status_code == 200:
                lat.append((t, (time.perf_counter() - t) * 1e3))
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - t)))


async def sse_client(base: str, cookies: dict, stop: asyncio.Event, events: list[int]) -> None:
    async with (
        httpx.AsyncClient(base_url=base, cookies=cookies, timeout=None) as c,
        c.stream("GET", "/api/health/stream") as r,
    ):
        async for line in r.aiter_lines():
            if line.startswith("data: "):
                events.append(1)
            if stop.is_set():
                return


async def window(
    *, base: str, redis_url: str, cookies: dict, clients: int, seconds: float, interval: float
) -> dict:
    stop = asyncio.Event()
    lat: list[tuple[float, float]] = []  # (start, ms)
    events: list[int] = []
    t0 = time.perf_counter()
    reader = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--hop-reader", redis_url, str(seconds), stdout=asyncio.subprocess.PIPE
    )
    tasks = []
    for i in range(clients):
        fn = (
            sse_client(base, cookies, stop, events)
            if i % 2
            else page_client(base, cookies, stop, lat, interval)
        )
        tasks.append(asyncio.create_task(fn))
    hop = json.loads((await reader.communicate())[0])
    stop.set()
    if tasks:
        await asyncio.wait(tasks, timeout=10)
    for t in tasks:
        t.cancel()
    lat_ms = [ms for start, ms in lat if start - t0 > WARMUP_S]  # connection set-up is not steady state
    return {
        "hop_p50": pct(hop, 50),
        "hop_p99": pct(hop, 99),
        "hops": len(hop),
        "page_p50": pct(lat_ms, 50),
        "page_p99": pct(lat_ms, 99),
        "pages_s": len(lat_ms) / (seconds - WARMUP_S),
        "sse_events": len(events),
    }


async def bench(args, base: str, redis_url: str) -> None:
    cookies = await login(base)
    rounds = []
    for n in range(args.rounds):
        quiet = await window(
            base=base,
            redis_url=redis_url,
            cookies=cookies,
            clients=0,
            seconds=args.seconds,
            interval=args.page_interval,
        )
        loaded = await window(
            base=base,
            redis_url=redis_url,
            cookies=cookies,
            clients=args.clients,
            seconds=args.seconds,
            interval=args.page_interval,
        )
        rounds.append((quiet, loaded))
        print(f"round {n + 1}: quiet {json.dumps(quiet)}\n         loaded {json.dumps(loaded)}", flush=True)

    def med(i: int, key: str) -> float:
        return statistics.median(r[i][key] for r in rounds)

    print(
        f"\n{args.clients} clients ({args.clients // 2 + args.clients % 2} on `/` "
        f"every {args.page_interval} s, {args.clients // 2} on SSE), "
        f"{args.seconds:.0f} s windows, medians over {args.rounds} rounds"
    )
    print(
        f"dashboard overview: p50 {med(1, 'page_p50'):.1f} ms, p99 {med(1, 'page_p99'):.1f} ms, "
        f"{med(1, 'pages_s'):.0f} pages/s; SSE events {med(1, 'sse_events'):.0f}"
    )
    print(
        f"platform hop market.book: quiet p50 {med(0, 'hop_p50'):.2f} ms p99 {med(0, 'hop_p99'):.2f} ms | "
        f"loaded p50 {med(1, 'hop_p50'):.2f} ms p99 {med(1, 'hop_p99'):.2f} ms | "
        f"p99 ratio loaded/quiet {med(1, 'hop_p99') / med(0, 'hop_p99'):.2f}"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--seconds", type=float, default=15.0)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument(
        "--page-interval", type=float, default=1.0, help="s between a client's page loads; 0: flat out"
    )
    p.add_argument("--hop-reader", nargs=2, metavar=("REDIS_URL", "SECONDS"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.hop_reader:
        return hop_reader(args.hop_reader[0], float(args.hop_reader[1]))
    if shutil.which("redis-server") is None:
        raise SystemExit("needs redis-server on the PATH")
    with tempfile.TemporaryDirectory() as tmp:
        procs, base, redis_url = start(Path(tmp))
        try:
            asyncio.run(bench(args, base, redis_url))
        finally:
            for proc in reversed(procs):
                proc.send_signal(signal.SIGTERM)
            for proc in reversed(procs):
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()


if __name__ == "__main__":
    main()
