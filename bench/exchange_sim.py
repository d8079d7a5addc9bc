"""The simulator's REST order rate and WS message rate, its idle CPU, and the connector's parse cost.

    uv run python bench/exchange_sim.py [--orders 1000] [--concurrency 8] [--seconds 5] [--idle-seconds 10]

Starts `scalper-exchange-sim` as a process on a free port (rate limits and latency off for the
throughput parts, defaults for the idle part). Measures, in one run:
1. REST: limit orders placed and cancelled far from the market through the connector (BybitRest),
   one client, sequential and with `--concurrency` requests in flight; orders/s (create + cancel = 1).
2. WS: one client subscribed to every public topic of both symbols with a 5 ms market step; frames/s.
3. Parse: the frames recorded in (2), decoded by the connector (`common.bybit.ws.parse`, typed Structs)
   against plain `msgspec.json.decode` (dicts) and stdlib `json.loads` of the same bytes; us/frame, ratio.
4. Idle: CPU% of the simulator with its default market pace (100 ms steps) and nobody connected.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import msgspec
import websockets
from common.bybit.http import BybitHttp
from common.bybit.rest import BybitRest
from common.bybit.schemas.order import CancelOrderParams, PlaceOrderParams
from common.bybit.ws import parse

BIN = Path(sys.executable).parent / "scalper-exchange-sim"
KEY, SECRET = "benchkey", "benchsecret"
TOPICS = [f"{t}.{s}" for s in ("BTCUSDT", "ETHUSDT")
          for t in ("orderbook.1", "orderbook.50", "orderbook.200", "publicTrade", "tickers", "kline.1")]


def start(*extra: str) -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen([str(BIN), "--port", "0", "--api-key", KEY, "--api-secret", SECRET, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
    return proc, json.loads(proc.stdout.readline())


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)


async def rest_orders(url: str, *, orders: int, concurrency: int) -> float:
    r = BybitRest(BybitHttp(base_url=url, api_key=KEY, api_secret=SECRET))
    last = Decimal((await r.tickers(symbol="BTCUSDT"))[0].lastPrice)
    price = str((last * Decimal("0.8")).quantize(Decimal("0.1")))
    sem, n = asyncio.Semaphore(concurrency), [0]

    async def one() -> None:
        async with sem:
            n[0] += 1
            link = f"b{concurrency}-{n[0]}"
            await r.place_order(PlaceOrderParams(category="linear", symbol="BTCUSDT", side="Buy",
                                                 orderType="Limit",
                                                 qty="0.001", price=price, orderLinkId=link))
            await r.cancel_order(CancelOrderParams(category="linear", symbol="BTCUSDT", orderLinkId=link))

    await one()  # warm up
    t0 = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(orders)))
    elapsed = time.perf_counter() - t0
    await r.http.aclose()
    return orders / elapsed


async def ws_frames(url: str, *, seconds: float) -> tuple[float, list[bytes]]:
    frames: list[bytes] = []
    async with websockets.connect(url, max_size=2**24) as ws:
        await ws.send(json.dumps({"op": "subscribe", "args": TOPICS[:10], "req_id": "1"}))
        await ws.send(json.dumps({"op": "subscribe", "args": TOPICS[10:], "req_id": "2"}))
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            raw = await ws.recv()
            frames.append(raw.encode() if isinstance(raw, str) else raw)
        elapsed = time.perf_counter() - t0
    return len(frames) / elapsed, [f for f in frames if b'"topic"' in f]


def per_frame_us(fn, frames: list[bytes], *, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for f in frames:
            fn(f)
        best = min(best, time.perf_counter() - t0)
    return best / len(frames) * 1e6


def idle_cpu(seconds: float) -> float:
    proc, _ = start()
    time.sleep(2)
    ticks = os.sysconf("SC_CLK_TCK")

    def cpu() -> float:
        fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    c0, t0 = cpu(), time.monotonic()
    time.sleep(seconds)
    used = cpu() - c0
    elapsed = time.monotonic() - t0
    stop(proc)
    return used / elapsed * 100


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--idle-seconds", type=float, default=10)
    args = ap.parse_args()
    fast = ("--rate-limit-scale", "0", "--latency-ms", "0", "--jitter-ms", "0")
    proc, urls = start(*fast)
    try:
        seq = await rest_orders(urls["rest"], orders=args.orders, concurrency=1)
        par = await rest_orders(urls["rest"], orders=args.orders, concurrency=args.concurrency)
    finally:
        stop(proc)
    proc, urls = start(*fast, "--tick-ms", "5")
    try:
        rate, frames = await ws_frames(urls["ws_public"], seconds=args.seconds)
    finally:
        stop(proc)
    ours = per_frame_us(parse, frames)
    plain = per_frame_us(msgspec.json.decode, frames)
    stdlib = per_frame_us(json.loads, frames)
    idle = idle_cpu(args.idle_seconds)
    rows = [
        ("REST orders/s (create+cancel), 1 in flight", f"{seq:,.0f}"),
        (f"REST orders/s, {args.concurrency} in flight", f"{par:,.0f}"),
        ("WS frames/s to one client (12 topics, 5 ms steps)", f"{rate:,.0f}"),
        (f"parse us/frame: connector (typed) / msgspec dict / json.loads, {len(frames)} frames",
         f"{ours:.2f} / {plain:.2f} / {stdlib:.2f}"),
        ("connector parse cost vs msgspec.json.decode", f"{ours / plain:.2f}x"),
        ("connector parse cost vs json.loads", f"{ours / stdlib:.2f}x"),
        ("idle CPU, default pace (100 ms steps, 2 symbols), nobody connected", f"{idle:.1f} %"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"| {'what'.ljust(width)} | figure |\n|{'-' * (width + 2)}|---|")
    for what, fig in rows:
        print(f"| {what.ljust(width)} | {fig} |")


if __name__ == "__main__":
    asyncio.run(main())
