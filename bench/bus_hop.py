"""One bus hop through `common.bus` against a raw redis-py XADD -> XREADGROUP hop, in the same run.

    uv run python bench/bus_hop.py [--runs 3] [--seconds 3] [--throughput-msgs 100000]

Starts its own redis-server on a free port. Producer and consumer are separate processes (a hop
crosses processes in production too), both on uvloop with hiredis. Each round measures, in turn:
p50/p99 hop latency at 1k and 10k msgs/s (the producer sends what is due each tick, one message
per tick at 1k/s, a pipelined handful at 10k/s), then the maximum throughput with batching (the
producer pipelines 1000 XADDs, the consumer reads COUNT 1000). Rounds interleave the two paths;
the table shows medians over the rounds and the ratios against the targets of DESIGN.md section 12
(p99 within 1.5x of raw, throughput at least 0.8x of the raw pipelined ceiling), and the consumer
process's CPU per message: a p99 of a few thousand samples moves 2-3x with the machine's load, the
CPU a message costs does not, so a real difference between the paths shows there first.

The raw path is what a careful hand-written consumer does with redis-py's client: XADD the same
msgpack payload, read with XREADGROUP, decode it with msgspec, and send XACK in the same pipeline as
the next read. The packed path is the most careful one below the client (the issue's raw redis-py hop
no longer being the best a hand-written consumer does once the bus itself goes below it): the same
XACK + XREADGROUP packed by `hiredis.pack_command`, written at once on one connection of redis-py's pool
and read back with the connection's own parser. Both produce alike (redis-py XADD, pipelined at 10k/s).
The bus path is `Bus.publish` / `Bus.publish_many` -> `Consumer` -> handler, with its metrics and DLQ
rules on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import hiredis
import msgspec
import redis
import redis.asyncio as aioredis
import uvloop

from common import constants as c
from common.bus import Bus, Consumer
from common.schemas import Trade, encode

STREAM = "bench.hop"
GROUP = "bench"
BATCH = 1000  # producer pipeline depth and consumer COUNT for the throughput test
WARMUP = 0.1  # share of the first latency samples dropped (connection set-up, first allocations)
RATES = (1_000, 10_000)
PATHS = ("raw", "packed", "bus")


def trade(n: int) -> Trade:
    """A realistic market.trades message; published_ts_ns carries the send time."""
    return Trade(symbol="BTCUSDT", trade_id=str(n), side="Buy", price="97123.45", size="0.012",
                 exchange_ts_ns=0, received_ts_ns=0, published_ts_ns=time.time_ns())


# --- consumer process ----------------------------------------------------------------------


async def consume(*, path: str, url: str, count: int, samples: bool = False) -> dict:
    """Read `count` messages; returns hop latencies (ms), the receive-side rate and CPU per message,
    and with `samples` every latency (after the warm-up), for a bench that builds on one hop."""
    lat_ms: list[float] = []
    first = last = 0.0
    cpu0 = time.process_time()

    def record(msg: Trade) -> None:
        nonlocal first, last
        now = time.time_ns()
        last = time.perf_counter()
        if not lat_ms:
            first = last
        lat_ms.append((now - msg.published_ts_ns) / 1e6)

    if path == "bus":
        bus = Bus(url, service="bench", maxlen=1_000_000)
        consumer: Consumer

        async def handler(msg: Trade) -> None:
            record(msg)
            if len(lat_ms) >= count:
                consumer.stop()

        consumer = Consumer(bus, stream=STREAM, group=GROUP, name="c1", handler=handler,
                            types=(Trade,), batch=BATCH, block_ms=100)
        await bus.redis.ping()
        print("ready", flush=True)
        await consumer.run()
        await bus.close()
    elif path == "packed":
        r = aioredis.from_url(url)
        decoder = msgspec.msgpack.Decoder(Trade)
        conn = await r.connection_pool.get_connection()
        print("ready", flush=True)
        read = hiredis.pack_command(("XREADGROUP", "GROUP", GROUP, "c1", "COUNT", BATCH, "BLOCK", 100,
                                     "STREAMS", STREAM, ">"))
        acks = []
        while len(lat_ms) < count:
            ack = hiredis.pack_command(("XACK", STREAM, GROUP, *acks)) if acks else b""
            await conn.send_packed_command(ack + read, check_health=False)
            if acks:
                await conn.read_response()
            resp = await conn.read_response()  # RESP3 (redis-py 8's default): {stream: [[id, [f, v]]]}
            acks = []
            for entry_id, fields in next(iter(resp.values())) if resp else ():
                record(decoder.decode(fields[1]))
                acks.append(entry_id)
        if acks:
            await r.xack(STREAM, GROUP, *acks)
        await r.connection_pool.release(conn)
        await r.aclose()
    else:
        r = aioredis.from_url(url)
        decoder = msgspec.msgpack.Decoder(Trade)
        await r.ping()
        print("ready", flush=True)
        acks: list[bytes] = []
        while len(lat_ms) < count:
            async with r.pipeline(transaction=False) as pipe:
                if acks:
                    pipe.xack(STREAM, GROUP, *acks)
                pipe.xreadgroup(GROUP, "c1", {STREAM: ">"}, count=BATCH, block=100)
                resp = (await pipe.execute())[-1]
            acks = []
            for entry_id, fields in resp[0][1] if resp else ():
                record(decoder.decode(fields[c.PAYLOAD_FIELD]))
                acks.append(entry_id)
        if acks:
            await r.xack(STREAM, GROUP, *acks)
        await r.aclose()
    lat_ms = lat_ms[int(len(lat_ms) * WARMUP):]
    q = statistics.quantiles(lat_ms, n=100, method="inclusive")
    cpu_us = (time.process_time() - cpu0) / count * 1e6  # this process's CPU per message: noise-free cost
    out = {"p50": q[49], "p99": q[98], "rate": (count - 1) / max(last - first, 1e-9), "cpu_us": cpu_us}
    return {**out, "samples": lat_ms} if samples else out


# --- producer process ----------------------------------------------------------------------


async def produce(*, path: str, url: str, count: int, rate: float) -> None:
    """Send `count` messages at `rate` msgs/s (0 = as fast as pipelines of BATCH allow)."""
    bus = Bus(url, service="bench", maxlen=1_000_000) if path == "bus" else None
    r = bus.redis if bus else aioredis.from_url(url)
    sent, t0 = 0, time.perf_counter()
    while sent < count:
        if rate:
            due = min(int((time.perf_counter() - t0) * rate) - sent, count - sent)
            if due <= 0:
                await asyncio.sleep((sent + 1) / rate - (time.perf_counter() - t0))
                continue
        else:
            due = min(BATCH, count - sent)
        msgs = [trade(sent + i) for i in range(due)]
        if bus is not None:
            if due == 1:
                await bus.publish(STREAM, msgs[0])
            else:
                await bus.publish_many([(STREAM, m) for m in msgs])
        elif due == 1:
            await r.xadd(STREAM, {c.PAYLOAD_FIELD: encode(msgs[0])}, maxlen=1_000_000, approximate=True)
        else:
            async with r.pipeline(transaction=False) as pipe:
                for m in msgs:
                    pipe.xadd(STREAM, {c.PAYLOAD_FIELD: encode(m)}, maxlen=1_000_000, approximate=True)
                await pipe.execute()
        sent += due
    await r.aclose()


# --- orchestration -------------------------------------------------------------------------


def child(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)


def measure(*, path: str, url: str, count: int, rate: float, samples: bool = False) -> dict:
    """One producer/consumer pair on a fresh stream and group; returns the consumer's figures."""
    r = redis.Redis.from_url(url)
    r.delete(STREAM)
    r.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    r.close()
    cons = child("consume", path, url, str(count), *(["samples"] if samples else []))
    assert cons.stdout.readline().strip() == "ready"
    prod = child("produce", path, url, str(count), str(rate))
    out, _ = cons.communicate(timeout=300)
    prod.wait(timeout=60)
    if cons.returncode or prod.returncode:
        raise SystemExit(f"{path} run failed (consumer {cons.returncode}, producer {prod.returncode})")
    return json.loads(out)


def start_redis(workdir: str, *config: str) -> tuple[subprocess.Popen, str]:
    """A redis-server on a free port with its files in `workdir`; `config`: more arguments (its AOF)."""
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--dir", workdir, *(config or ("--appendonly", "no"))],
                            stdout=subprocess.DEVNULL)
    r = redis.Redis(port=port)
    for _ in range(100):
        try:
            r.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    r.close()
    return proc, f"redis://127.0.0.1:{port}/0"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="interleaved rounds (medians are reported)")
    ap.add_argument("--seconds", type=float, default=3.0, help="length of each latency measurement")
    ap.add_argument("--throughput-msgs", type=int, default=100_000)
    args = ap.parse_args()

    results: dict[tuple[str, str], list[dict]] = {}
    with tempfile.TemporaryDirectory() as workdir:
        redis_proc, url = start_redis(workdir)
        try:
            for run in range(args.runs):
                order = PATHS if run % 2 == 0 else PATHS[::-1]
                for rate in RATES:
                    for path in order:
                        res = measure(path=path, url=url, count=int(rate * args.seconds), rate=rate)
                        results.setdefault((path, f"{rate // 1000}k"), []).append(res)
                for path in order:
                    res = measure(path=path, url=url, count=args.throughput_msgs, rate=0)
                    results.setdefault((path, "max"), []).append(res)
                print(f"round {run + 1}/{args.runs} done", file=sys.stderr, flush=True)
        finally:
            redis_proc.terminate()
            redis_proc.wait()

    def med(path: str, kind: str, key: str) -> float:
        return statistics.median(r[key] for r in results[(path, kind)])

    print(f"\nbus hop vs the raw redis-py hop and the packed one, medians of {args.runs} interleaved runs")
    print(f"{'load':<8}{'raw p99':>10}{'packed p99':>12}{'bus p50':>10}{'bus p99':>10}{'p99 bus/raw':>14}"
          f"{'bus/packed':>12}{'consumer CPU/msg raw, packed, bus':>40}")
    for rate in RATES:
        kind = f"{rate // 1000}k"
        raw99, packed99 = med("raw", kind, "p99"), med("packed", kind, "p99")
        bus50, bus99 = med("bus", kind, "p50"), med("bus", kind, "p99")
        cpu = ", ".join(f"{med(path, kind, 'cpu_us'):.0f}us" for path in PATHS)
        print(f"{kind + '/s':<8}{raw99:>8.2f}ms{packed99:>10.2f}ms{bus50:>8.2f}ms{bus99:>8.2f}ms"
              f"{bus99 / raw99:>13.2f}x{bus99 / packed99:>11.2f}x{cpu:>40}")
    print("(target: p99 within 1.5x of the raw hop)")
    raw_t, bus_t = med("raw", "max", "rate"), med("bus", "max", "rate")
    print(f"\nmax throughput, pipelines of {BATCH}: raw {raw_t:,.0f} msgs/s, packed "
          f"{med('packed', 'max', 'rate'):,.0f} msgs/s, bus {bus_t:,.0f} msgs/s, "
          f"bus/raw {bus_t / raw_t:.2f}x  (target >= 0.8x)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "consume":
        print(json.dumps(uvloop.run(consume(path=sys.argv[2], url=sys.argv[3], count=int(sys.argv[4]),
                                            samples=sys.argv[5:] == ["samples"]))))
    elif len(sys.argv) > 1 and sys.argv[1] == "produce":
        uvloop.run(produce(path=sys.argv[2], url=sys.argv[3], count=int(sys.argv[4]), rate=float(sys.argv[5])))
    else:
        main()
