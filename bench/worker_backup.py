"""The worker's backup on a day of the platform's streams: backup and verify time and size, worker RSS
and idle CPU, against Redis's own SAVE of the same data set as the baseline (same run, same machine).

    uv run python bench/worker_backup.py [--runs 3] [--symbols 10]

The data set is what Redis holds after a day at normal rates, each stream bounded by STREAM_MAXLEN
(100k): market.book (10 symbols x 10 coalesced books/s) and market.trades (50/s) at the bound,
strategy.signals (1/s, 86.4k), sys.health (5 services x 1/s, at the bound), exec.intents (2k a day),
exec.events (10k), sys.alerts (500), the execution store and 200 quality buckets; in DATA_DIR a users.db
of 50 users, a full 10 MiB alert log and a 2 MiB audit log. The backup takes what the platform needs
to resume (not the market streams, which the feed rebuilds), so it is much smaller than Redis's SAVE.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import constants as c  # noqa: E402
from common.schemas import FillEvent, OrderEvent, OrderIntent, encode  # noqa: E402
from tests.support import RedisServer  # noqa: E402
from tests.worker.harness import run_job, start_worker, stop, worker_env  # noqa: E402
from worker.verify import verify_backup  # noqa: E402

MAXLEN = 100_000
DAY_S = 86_400


def fill_redis(client, symbols: int) -> None:
    now = time.time_ns()

    def stream(name: str, count: int, payload) -> None:
        for start in range(0, count, 5000):
            with client.pipeline(transaction=False) as pipe:
                for i in range(start, min(start + 5000, count)):
                    pipe.xadd(name, {c.PAYLOAD_FIELD: payload(i)})
                pipe.execute()

    stream(c.MARKET_BOOK, min(symbols * 10 * DAY_S, MAXLEN), lambda i: os.urandom(600))
    stream(c.MARKET_TRADES, min(50 * DAY_S, MAXLEN), lambda i: os.urandom(120))
    stream(c.STRATEGY_SIGNALS, DAY_S, lambda i: os.urandom(300))
    stream(c.SYS_HEALTH, min(5 * DAY_S, MAXLEN), lambda i: os.urandom(250))
    stream(c.EXEC_INTENTS, 2000, lambda i: encode(OrderIntent(
        intent_id=f"s-{i}", symbol="BTCUSDT", side="Buy", qty="0.01", reference_price="100000",
        created_ts_ns=now)))
    stream(c.EXEC_EVENTS, 10_000, lambda i: encode(
        FillEvent(exec_id=f"e{i}", order_link_id=f"s-{i // 5}", order_id=str(i), symbol="BTCUSDT", side="Buy",
                  price="100000.5", qty="0.01", fee="0.06", is_maker=False, exchange_ts_ns=now, ts_ns=now)
        if i % 2 else OrderEvent(order_link_id=f"s-{i // 5}", order_id=str(i), symbol="BTCUSDT", side="Buy",
                                 status="Filled", order_type="Market", qty="0.01", ts_ns=now)))
    stream(c.SYS_ALERTS, 500, lambda i: os.urandom(200))
    client.hset(c.EXEC_INTENTS_KEY, mapping={f"s-{i}": json.dumps({"status": "filled"}) for i in range(2000)})
    client.zadd(c.EXEC_FILLS_KEY, {f"e{i}": i for i in range(5000)})
    client.lpush(c.EXEC_RECOVERY_KEY, *[json.dumps({"plan": i, "steps": ["x" * 100] * 8}) for i in range(200)])
    for b in range(200):
        client.hset(c.exec_quality_bucket_key("BTCUSDT", 1_700_000_000 + b * 300), mapping={"n": b, "slip": b})


def fill_files(data: Path) -> None:
    data.mkdir(parents=True)
    db = sqlite3.connect(data / "users.db")
    db.execute("CREATE TABLE users (name TEXT PRIMARY KEY, hash TEXT, role TEXT)")
    db.executemany("INSERT INTO users VALUES (?, ?, 'viewer')", [(f"u{i}", "$2b$12$" + "x" * 53) for i in range(50)])
    db.commit()
    db.close()
    def log(size: int) -> str:  # distinct lines, as a real log has (times, ids and details vary)
        lines, total, i = [], 0, 0
        while total < size:
            line = json.dumps({"ts_ns": time.time_ns() + i * 997, "key": f"dlq:market.book:{i % 37}",
                               "severity": "WARN", "title": "message on market.book sent to sys.dlq",
                               "detail": f"decode: entry {os.urandom(6).hex()} at {i}"}) + "\n"
            lines.append(line)
            total += len(line)
            i += 1
        return "".join(lines)
    (data / "alert_log.jsonl").write_text(log(10 << 20))
    (data / "audit.jsonl").write_text(log(2 << 20))
    (data / "config_versions.jsonl").write_text('{"version": 1, "values": {}}\n' * 20)


def rss_kib(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {ln.split(":")[0]: int(ln.split()[1]) for ln in status if ln.startswith(("VmRSS", "VmHWM"))}


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--symbols", type=int, default=10)
    ap.add_argument("--idle-seconds", type=float, default=10.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-worker-") as tmp:
        tmp_path = Path(tmp)
        server = RedisServer(tmp_path / "redis").start()
        client = server.client()
        fill_redis(client, args.symbols)
        fill_files(tmp_path / "data")
        proc = start_worker(worker_env(server.url, tmp_path / "data", BACKUP_KEEP_DAILY="1"),
                            tmp_path / "worker.log", client)
        try:
            time.sleep(2)
            idle_rss = rss_kib(proc.pid)
            before = cpu_s(proc.pid)
            time.sleep(args.idle_seconds)  # nothing scheduled is due: this is the idle cost
            idle_cpu = (cpu_s(proc.pid) - before) / args.idle_seconds * 100
            saves, backups, verifies, sizes = [], [], [], []
            for _ in range(args.runs):
                t = time.perf_counter()
                client.save()
                saves.append(time.perf_counter() - t)
                rec = run_job(client, c.JOB_BACKUP, timeout=600)
                assert rec["outcome"] == "ok", rec
                backups.append(rec["end_ts"] - rec["start_ts"])
                sizes.append(rec["bytes"])
                t = time.perf_counter()
                verify_backup(Path(rec["detail"]["path"]))
                verifies.append(time.perf_counter() - t)
                last = rec
            busy_rss = rss_kib(proc.pid)
        finally:
            stop(proc)
            server.stop()
        rdb = (tmp_path / "redis" / "dump.rdb").stat().st_size
        med = statistics.median
        data_mib = sum(p.stat().st_size for p in (tmp_path / "data").glob("*.*") if p.is_file()) / 2**20
        print(f"data set: Redis dump.rdb {rdb / 2**20:.1f} MiB, DATA_DIR files {data_mib:.1f} MiB; "
              f"{last['counts']['redis_keys']} keys captured")
        print(f"{'':<28}{'median':>10}")
        print(f"{'baseline Redis SAVE (s)':<28}{med(saves):>10.2f}")
        print(f"{'backup incl. proof (s)':<28}{med(backups):>10.2f}   ratio {med(backups) / med(saves):.1f}x SAVE")
        print(f"{'verify again (s)':<28}{med(verifies):>10.2f}")
        print(f"{'backup size (MiB)':<28}{med(sizes) / 2**20:>10.2f}   "
              f"ratio {med(sizes) / rdb:.2f}x dump.rdb")
        print(f"{'worker RSS idle (MiB)':<28}{idle_rss['VmRSS'] / 1024:>10.1f}")
        print(f"{'worker RSS after (MiB)':<28}{busy_rss['VmRSS'] / 1024:>10.1f}   peak {busy_rss['VmHWM'] / 1024:.1f}")
        print(f"{'worker idle CPU (%)':<28}{idle_cpu:>10.2f}")


if __name__ == "__main__":
    main()
