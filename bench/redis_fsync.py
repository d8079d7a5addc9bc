"""What `appendfsync always` costs against `everysec`, for what the platform writes, in the same run.

    uv run python bench/redis_fsync.py [--runs 3] [--seconds 3] [--dir DIR]

With `everysec` a Redis killed or crashed may lose up to the last second or two of writes that its
clients were told are stored (an acknowledged intent, a fill, a recovery record); with `always` a
write is on disk before its reply. make run's Redis uses `always` (deploy/local/redis.conf); this
measures the price. Starts its own redis-server per setting, its AOF in --dir (default: a temporary
folder under the working directory, on the disk the platform writes to: a tmpfs would make fsync
free). Rounds alternate which setting goes first; the table shows medians over the rounds:
- intents/s and p50/p99 latency of `Bus.publish` of an OrderIntent, one at a time (a strategy or
  the dashboard publishing an entry and waiting for the reply), and with 8 publishers at once;
- Trades/s through `Bus.publish_many` pipelines of 100 (the market service's batched ingest).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import uvloop
from bus_hop import start_redis  # bench/ is the script's folder: on sys.path

from common.bus import Bus
from common.schemas import OrderIntent, Trade, now_ns

SETTINGS = ("everysec", "always")
PUBLISHERS = 8
PIPELINE = 100


def intent(n: int) -> OrderIntent:
    return OrderIntent(intent_id=f"bench-{n}", symbol="BTCUSDT", side="Buy", qty="0.01", take_profit="99000",
                       stop_loss="95000", created_ts_ns=now_ns())


async def one_by_one(bus: Bus, seconds: float, publishers: int) -> tuple[float, list[float]]:
    """Intents/s and latencies (ms) of `publishers` loops each awaiting one publish at a time."""
    lat: list[float] = []
    end = time.perf_counter() + seconds

    async def loop(k: int) -> None:
        n = 0
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            await bus.publish("bench.intents", intent(k * 10_000_000 + n))
            lat.append((time.perf_counter() - t0) * 1000)
            n += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(loop(k) for k in range(publishers)))
    return len(lat) / (time.perf_counter() - t0), lat


async def pipelined(bus: Bus, seconds: float) -> float:
    """Trades/s through publish_many pipelines of PIPELINE."""
    sent, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        batch = [("bench.trades", Trade(symbol="BTCUSDT", trade_id=str(sent + i), side="Buy", price="97000.1",
                                        size="0.01", exchange_ts_ns=0, received_ts_ns=0))
                 for i in range(PIPELINE)]
        await bus.publish_many(batch)
        sent += PIPELINE
    return sent / (time.perf_counter() - t0)


async def measure(url: str, seconds: float) -> dict[str, float]:
    bus = Bus(url, service="bench")
    try:
        rate1, lat1 = await one_by_one(bus, seconds, 1)
        rate8, _ = await one_by_one(bus, seconds, PUBLISHERS)
        trades = await pipelined(bus, seconds)
    finally:
        await bus.close()
    q = statistics.quantiles(lat1, n=100)
    return {"intents/s, 1 publisher": rate1, "p50 ms": q[49], "p99 ms": q[98],
            f"intents/s, {PUBLISHERS} publishers": rate8, f"trades/s, pipelines of {PIPELINE}": trades}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--dir", type=Path, default=Path.cwd())
    args = ap.parse_args()
    results: dict[str, list[dict[str, float]]] = {s: [] for s in SETTINGS}
    for run in range(args.runs):
        for fsync in SETTINGS if run % 2 == 0 else reversed(SETTINGS):
            with tempfile.TemporaryDirectory(dir=args.dir, prefix="bench-aof-") as data:
                proc, url = start_redis(data, "--appendonly", "yes", "--appendfsync", fsync)
                try:
                    results[fsync].append(uvloop.run(measure(url, args.seconds)))
                finally:
                    proc.kill()
                    proc.wait()
    names = list(results[SETTINGS[0]][0])
    header = "".join(f"{s:>12}" for s in SETTINGS)
    print(f"{'median of ' + str(args.runs):<34}{header}{'always/everysec':>17}")
    for name in names:
        med = {s: statistics.median(r[name] for r in results[s]) for s in SETTINGS}
        print(f"{name:<34}" + "".join(f"{med[s]:>12.2f}" for s in SETTINGS)
              + f"{med['always'] / med['everysec']:>16.2f}x")


if __name__ == "__main__":
    main()
