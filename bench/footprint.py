"""Footprint: each service's RSS and CPU idle and at normal load, and Redis memory over a soak.

    uv run python bench/footprint.py [--window 10] [--duration 180] [--symbols 3] [--soak-tick-ms 10]
                                     [--maxlen N]

Three platforms, one after the other (redis-server, simulator, the five services as processes):
- **idle**: the simulator steps its market once a minute, so nothing flows but heartbeats; after
  --settle seconds, each process's RSS and CPU share of one core (from /proc, over --window s);
- **normal**: --symbols symbols stepped every 100 ms (the simulator's default pace), the same figures;
- **soak**: the same symbols stepped every --soak-tick-ms (10 ms: ten times the normal rate, an hour
  compressed into six minutes) for --duration seconds, Redis's `used_memory` sampled every 5 s, then
  the same figures again. With --maxlen below the default STREAM_MAXLEN the streams reach their cap
  within a short soak, so the plateau shows.
At the end every Redis key is listed by family (symbols, ids and dates folded into `*`) with its type
and size, so a family that keeps growing shows. Targets (DESIGN.md section 12): RSS < 150 MB per
service, idle CPU near 0 %, Redis memory flat once the streams reach their MAXLEN. The baseline is
the same figures for redis-server and the simulator, which run in the same platform.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import bcrypt
import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support.processes import Platform  # noqa: E402
from tests.support import free_port  # noqa: E402

SERVICES = ("market", "strategy", "execution", "dashboard", "worker")
TICKS = os.sysconf("SC_CLK_TCK")
SAMPLE_S = 5.0
VARIABLE = re.compile(r"\d|USDT$")  # a key segment that is a symbol, an id or a date


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def window(pids: dict[str, int], seconds: float) -> dict[str, tuple[float, float]]:
    """name -> (RSS MB at the end, CPU % of one core over the window)."""
    before = {n: cpu_s(p) for n, p in pids.items()}
    time.sleep(seconds)
    return {n: (rss_mb(p), (cpu_s(p) - before[n]) / seconds * 100) for n, p in pids.items()}


def families(client: redis.Redis) -> dict[str, tuple[str, int, int]]:
    """family -> (type, keys, total size: entries / fields / members / bytes)."""
    out: dict[str, tuple[str, int, int]] = {}
    for key in client.scan_iter(count=1000):
        name = key.decode()
        kind = client.type(key).decode()
        size = {"stream": client.xlen, "hash": client.hlen, "set": client.scard, "zset": client.zcard,
                "list": client.llen, "string": client.strlen}.get(kind, lambda k: 0)(key)
        fam = ":".join("*" if VARIABLE.search(part) else part for part in name.split(":"))
        _, n, total = out.get(fam, (kind, 0, 0))
        out[fam] = (kind, n + 1, total + size)
    return dict(sorted(out.items()))


def platform(tmp: Path, *, symbols: int, tick_ms: int, maxlen: int) -> Platform:
    names = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT"][:symbols]
    env = {"WEB_PORT": str(free_port()), "STREAM_MAXLEN": str(maxlen), "ADMIN_USERNAME": "bench",
           "ADMIN_PASSWORD_HASH": bcrypt.hashpw(b"bench-Pa55word", bcrypt.gensalt(4)).decode()}
    return Platform(tmp, symbols=names, tick_ms=tick_ms, env=env)


def pids(p: Platform) -> dict[str, int]:
    return {**{s: p.pid(s) for s in SERVICES}, "simulator": p.pid("sim"), "redis-server": p.redis.proc.pid}


def print_window(title: str, figures: dict[str, tuple[float, float]]) -> None:
    print(f"\n{title}\n{'process':<14}{'RSS MB':>9}{'CPU %':>8}")
    for name, (rss, cpu) in figures.items():
        flag = "  over 150 MB" if name in SERVICES and rss >= 150 else ""
        print(f"{name:<14}{rss:>9.1f}{cpu:>8.1f}{flag}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--window", type=float, default=10.0, help="seconds of each RSS/CPU measurement")
    ap.add_argument("--settle", type=float, default=10.0, help="seconds after start before measuring")
    ap.add_argument("--duration", type=float, default=180.0, help="seconds of the Redis memory soak")
    ap.add_argument("--symbols", type=int, default=3)
    ap.add_argument("--soak-tick-ms", type=int, default=10, help="the soak's market step (100 = normal pace)")
    ap.add_argument("--maxlen", type=int, default=100_000,
                    help="STREAM_MAXLEN: lower it to see the plateau within a short soak")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        with platform(Path(d) / "idle", symbols=args.symbols, tick_ms=60_000, maxlen=args.maxlen) as p:
            p.start(*SERVICES)
            time.sleep(args.settle)
            print_window("idle (no market data)", window(pids(p), args.window))
        with platform(Path(d) / "normal", symbols=args.symbols, tick_ms=100, maxlen=args.maxlen) as p:
            p.start(*SERVICES)
            time.sleep(args.settle)
            title = f"normal load ({args.symbols} symbols, a step every 100 ms)"
            print_window(title, window(pids(p), args.window))
        soak = platform(Path(d) / "soak", symbols=args.symbols, tick_ms=args.soak_tick_ms, maxlen=args.maxlen)
        with soak as p:
            p.start(*SERVICES)
            client = p.redis.client()
            samples, t0 = [], time.monotonic()
            while time.monotonic() - t0 < args.duration:
                time.sleep(SAMPLE_S)
                samples.append((time.monotonic() - t0, client.info("memory")["used_memory"] / 2**20))
            print_window(f"end of the soak ({args.soak_tick_ms} ms steps)", window(pids(p), args.window))
            print(f"\nRedis used_memory over the soak (MB): "
                  + " ".join(f"{t:.0f}s={mb:.1f}" for t, mb in samples[:: max(1, len(samples) // 12)]))
            half = samples[len(samples) // 2:]
            if len(half) >= 2:
                slope = (half[-1][1] - half[0][1]) / max(half[-1][0] - half[0][0], 1e-9) * 3600
                print(f"second half: {half[0][1]:.1f} -> {half[-1][1]:.1f} MB "
                      f"({slope:+.1f} MB/h at this pace)")
            print(f"\n{'key family':<48}{'type':<8}{'keys':>6}{'size':>10}")
            for fam, (kind, n, size) in families(client).items():
                print(f"{fam:<48}{kind:<8}{n:>6}{size:>10}")
            client.close()


if __name__ == "__main__":
    main()
