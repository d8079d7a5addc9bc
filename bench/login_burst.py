"""A burst of concurrent wrong guesses from one address against the real dashboard: how many reach bcrypt
(the goal: at most LOGIN_MAX_FAILURES), and the login latency under the burst.

    uv run python bench/login_burst.py [--guesses 100] [--rounds 3] [--cost 12]

Starts its own redis-server and one dashboard process (admin hash of bcrypt cost --cost, the cost a
real `scalperctl hash-password` uses), fires --guesses login POSTs at once over as many connections,
and counts the attempts the audit log records as checked ("wrong password": bcrypt ran) against
those refused by the throttle before any bcrypt ("locked"). Each round uses a fresh Redis database
(FLUSHALL), so every burst starts unthrottled. Prints per round and the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bcrypt
import httpx
import redis

BIN = Path(sys.executable).parent
USER = "bench"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(xs: list[float], q: int) -> float:
    return statistics.quantiles(xs, n=100)[q - 1]


async def burst(base: str, n: int) -> tuple[list[int], list[float]]:
    """`n` wrong guesses at once; their statuses and latencies (s)."""
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=httpx.Limits(max_connections=n)) as c:
        token = CSRF.search((await c.get("/login")).text).group(1)

        async def one() -> tuple[int, float]:
            t0 = time.perf_counter()
            r = await c.post("/login", data={"username": USER, "password": "wrong-guess", "csrf": token})
            return r.status_code, time.perf_counter() - t0

        results = await asyncio.gather(*(one() for _ in range(n)))
    return [s for s, _ in results], [t for _, t in results]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--guesses", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cost", type=int, default=12)
    args = ap.parse_args()
    if shutil.which("redis-server") is None:
        sys.exit("needs redis-server on the PATH")
    tmp = Path(tempfile.mkdtemp(prefix="login-burst-"))
    rport, wport = free_port(), free_port()
    rds = subprocess.Popen(["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
                            "--dir", str(tmp)], stdout=subprocess.DEVNULL)
    env = dict(os.environ, REDIS_URL=f"redis://127.0.0.1:{rport}/0", SCALPER_ENV_FILE="/nonexistent/.env",
               DATA_DIR=str(tmp / "data"), WEB_PORT=str(wport), DASHBOARD_METRICS_PORT="0",
               ADMIN_USERNAME=USER,
               ADMIN_PASSWORD_HASH=bcrypt.hashpw(b"bench-Pa55word", bcrypt.gensalt(args.cost)).decode())
    log = open(tmp / "dashboard.log", "wb")
    dash = subprocess.Popen([str(BIN / "scalper-dashboard")], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{wport}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                sys.exit("the dashboard did not come up: " + (tmp / "dashboard.log").read_text()[-500:])
            time.sleep(0.3)
        audit, client = tmp / "data" / "audit.jsonl", redis.Redis(port=rport)
        checked_runs, p50s, p99s = [], [], []
        for round_no in range(1, args.rounds + 1):
            for key in client.scan_iter(match="scalper:dashboard:login*"):
                client.delete(key)
            before = audit.read_text().count('"wrong password"') if audit.exists() else 0
            statuses, latencies = asyncio.run(burst(base, args.guesses))
            checked = audit.read_text().count('"wrong password"') - before
            checked_runs.append(checked)
            p50s.append(pct(latencies, 50))
            p99s.append(pct(latencies, 99))
            print(json.dumps({"round": round_no, "guesses": args.guesses, "reached_bcrypt": checked,
                              "refused_429": statuses.count(429), "p50_ms": round(p50s[-1] * 1000),
                              "p99_ms": round(p99s[-1] * 1000)}))
        print(json.dumps({"median_reached_bcrypt": statistics.median(checked_runs),
                          "median_p50_ms": round(statistics.median(p50s) * 1000),
                          "median_p99_ms": round(statistics.median(p99s) * 1000)}))
    finally:
        dash.terminate()
        dash.wait(timeout=20)
        rds.terminate()
        rds.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
