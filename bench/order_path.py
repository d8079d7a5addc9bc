"""The order path: an intent on the bus -> the order acknowledged by the simulator, against a bare
signed REST call to the same simulator, in the same run.

    uv run python bench/order_path.py [--seconds 10] [--rates 10,100] [--runs 3]

Starts its own redis-server and simulator (rate limits off: we measure our path, not Bybit's 10/s)
on free ports, and the execution service as a real process. For each rate it sends limit orders far
from the market (they rest; nothing fills) at that many per second, in turn:
- **path**: `OrderIntent` XADDed to `exec.intents`; latency = the intent's created_ts_ns -> the
  moment the service learnt the exchange has the order (its intent record's ack_ts_ns);
- **bare**: the best a hand-written client does (`bench/support/bare_rest.py`): one persistent aiohttp session
  whose keep-alive pool has a warm connection per request that can be in flight at the rate, every
  order signed as `common.bybit` signs it and sent at once; latency = request -> decoded reply.
Every series starts from an empty book (cancel-all after each), rounds alternate which series goes
first, and this process runs on uvloop, as the services do. It prints medians over the rounds of
p50/p99 of each and the ratio path/bare (what the platform adds on top of the REST call).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec
import redis.asyncio as aioredis

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support.bare_rest import BareRest, connections_for  # noqa: E402
from common import constants as c  # noqa: E402
from common.bybit.http import BybitHttp  # noqa: E402
from common.bybit.rest import BybitRest  # noqa: E402
from common.schemas import OrderIntent, encode, now_ns  # noqa: E402

KEY, SECRET = "benchkey0123456789", "benchsecret0123456789abcdef"
BIN = Path(sys.executable).parent
WARMUP = 5  # first samples of each series dropped (connections, caches)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


async def paced(rate: int, seconds: float, send) -> None:
    """Call `send(n)` `rate` times a second as tasks, on schedule, for `seconds`."""
    tasks, start = [], time.monotonic()
    for n in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
        tasks.append(asyncio.create_task(send(n)))
    await asyncio.gather(*tasks)


async def bare(rest_url: str, *, rate: int, seconds: float, price: str, tag: str) -> list[float]:
    client = BareRest(base_url=rest_url, api_key=KEY, api_secret=SECRET, connections=connections_for(rate))
    lat: list[float] = []

    async def send(n: int) -> None:
        lat.append(await client.place(symbol="BTCUSDT", price=price, link_id=f"b-{tag}-{n}"))
    try:
        await client.warm()
        await paced(rate, seconds, send)
    finally:
        await client.aclose()
    return lat[WARMUP:]


async def path(r: aioredis.Redis, *, rate: int, seconds: float, price: str, tag: str) -> list[float]:
    ids: list[tuple[str, int]] = []

    async def send(n: int) -> None:
        intent = OrderIntent(intent_id=f"m-{tag}-{n}", symbol="BTCUSDT", side="Buy", qty="0.001",
                             order_type="Limit", price=price, source="manual", created_ts_ns=now_ns())
        ids.append((intent.intent_id, intent.created_ts_ns))
        await r.xadd(c.EXEC_INTENTS, {c.PAYLOAD_FIELD: encode(intent)})
    await paced(rate, seconds, send)
    deadline = time.monotonic() + 60
    while True:
        raws = await r.hmget(c.EXEC_INTENTS_KEY, [i for i, _ in ids])
        recs = [json.loads(x) if x else {} for x in raws]
        if all(rec.get("ack_ts_ns") for rec in recs) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    missing = sum(not rec.get("ack_ts_ns") for rec in recs)
    if missing:
        raise SystemExit(f"{missing} intents never acknowledged: {[x for x in recs if not x.get('ack_ts_ns')][:2]}")
    return [(rec["ack_ts_ns"] - t0) / 1e6 for rec, (_, t0) in zip(recs, ids)][WARMUP:]


async def run(args, *, rest_url: str, redis_url: str) -> list[dict]:
    """Rounds of both series per rate, alternating which goes first; medians of each figure."""
    r = aioredis.from_url(redis_url)
    rest = BybitRest(BybitHttp(base_url=rest_url, api_key=KEY, api_secret=SECRET))
    price = str(round(float((await rest.tickers(symbol="BTCUSDT"))[0].lastPrice) * 0.5, 1))
    rows = []
    try:
        for rate in args.rates:
            runs: dict[str, list[float]] = {}
            for rnd in range(args.runs):
                for name in ("bare", "path") if (rnd + rate) % 2 else ("path", "bare"):
                    tag = f"{rate}-{rnd}"
                    series = bare(rest_url, rate=rate, seconds=args.seconds, price=price, tag=tag) \
                        if name == "bare" else path(r, rate=rate, seconds=args.seconds, price=price, tag=tag)
                    lat = await series
                    runs.setdefault(f"{name}_p50_ms", []).append(statistics.median(lat))
                    runs.setdefault(f"{name}_p99_ms", []).append(pct(lat, 0.99))
                    # Every series starts from an empty book: the simulator's cost per order grows with
                    # the orders resting, and the series that ran second would otherwise pay for both.
                    await rest.cancel_all(symbol="BTCUSDT")
            row = {"rate": rate, **{k: statistics.median(v) for k, v in runs.items()}}
            row["ratio_p50"] = row["path_p50_ms"] / row["bare_p50_ms"]
            row["ratio_p99"] = row["path_p99_ms"] / row["bare_p99_ms"]
            rows.append(row)
    finally:
        await rest.http.aclose()
        await r.aclose()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--runs", type=int, default=3, help="interleaved rounds per rate (medians are reported)")
    ap.add_argument("--rates", type=lambda s: [int(x) for x in s.split(",")], default=[10, 100])
    args = ap.parse_args()
    if shutil.which("redis-server") is None:
        raise SystemExit("needs redis-server on the PATH")
    tmp = Path(tempfile.mkdtemp(prefix="order-path-"))
    procs: list[subprocess.Popen] = []
    try:
        rport = free_port()
        procs.append(subprocess.Popen(["redis-server", "--port", str(rport), "--save", "", "--appendonly", "no",
                                       "--dir", str(tmp)], stdout=subprocess.DEVNULL))
        sim_out = tmp / "sim.out"
        procs.append(subprocess.Popen(
            [str(BIN / "scalper-exchange-sim"), "--port", "0", "--api-key", KEY, "--api-secret", SECRET,
             "--symbols", "BTCUSDT", "--seed", "7", "--balance", "100000000", "--rate-limit-scale", "0"],
            stdout=open(sim_out, "wb"), stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 30
        while not sim_out.read_text().endswith("\n"):
            if time.monotonic() > deadline:
                raise SystemExit(f"simulator did not start: {sim_out.read_text()}")
            time.sleep(0.1)
        urls = json.loads(sim_out.read_text().splitlines()[0])
        redis_url = f"redis://127.0.0.1:{rport}/0"
        env = {**os.environ, "REDIS_URL": redis_url, "SCALPER_ENV_FILE": "/nonexistent/.env", "EXECUTION_MODE": "SIM",
               "BYBIT_REST_URL": urls["rest"], "BYBIT_WS_PUBLIC_URL": urls["ws_public"],
               "BYBIT_WS_PRIVATE_URL": urls["ws_private"], "BYBIT_API_KEY": KEY, "BYBIT_API_SECRET": SECRET,
               "EXEC_REQUIRED_MODULES": "", "EXECUTION_METRICS_PORT": "-1", "LOG_LEVEL": "WARNING"}
        procs.append(subprocess.Popen([str(BIN / "scalper-execution")], env=env, stdout=open(tmp / "exec.log", "wb"),
                                      stderr=subprocess.STDOUT))
        uvloop.run(wait_normal(redis_url))
        rows = uvloop.run(run(args, rest_url=urls["rest"], redis_url=redis_url))
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{'rate/s':>7} {'bare p50':>9} {'bare p99':>9} {'path p50':>9} {'path p99':>9} {'x p50':>6} {'x p99':>6}")
    for row in rows:
        print(f"{row['rate']:>7} {row['bare_p50_ms']:>8.2f}m {row['bare_p99_ms']:>8.2f}m {row['path_p50_ms']:>8.2f}m "
              f"{row['path_p99_ms']:>8.2f}m {row['ratio_p50']:>6.2f} {row['ratio_p99']:>6.2f}")
    print(json.dumps(rows))


async def wait_normal(redis_url: str) -> None:
    r = aioredis.from_url(redis_url)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            raw = await r.get(c.EXEC_STATE_KEY)
            if raw and msgspec.json.decode(raw)["state"] == "NORMAL":
                return
            await asyncio.sleep(0.1)
        raise SystemExit("the execution service never reached NORMAL")
    finally:
        await r.aclose()


if __name__ == "__main__":
    main()
