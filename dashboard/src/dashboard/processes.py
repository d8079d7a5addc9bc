"""The services' processes as seen from the dashboard's host: memory, CPU and threads when a service runs
here, and whether the dashboard can have one restarted."""

from __future__ import annotations

import psutil

from dashboard import running_versions
from dashboard.health_monitor import HealthMonitor

# A local pid is the service's own process only when it started within this long of the heartbeat's start.
START_MATCH_S = 5.0


def process_facts(pid: int | None, start_ts_ns: int) -> dict:
    """Memory and CPU of the service's process when it runs on this host (else empty: remote or gone)."""
    try:
        p = psutil.Process(pid) if pid else None
        if p is None or abs(p.create_time() - start_ts_ns / 1e9) > START_MATCH_S:
            return {}
        with p.oneshot():
            return {
                "rss_mb": round(p.memory_info().rss / 2**20, 1),
                "cpu_s": round(sum(p.cpu_times()[:2]), 1),
                "threads": p.num_threads(),
            }
    except (psutil.Error, ValueError):
        return {}


def restart_refusal(row: dict) -> str:
    """Why this service cannot be restarted from here, or "" when it can."""
    if not row["pid"] or row["status"] == "RED":
        return f"{row['name']} is not running: its supervisor (or systemctl on the host) must start it"
    if not row["supervisor"]:
        return f"{row['name']} runs under no supervisor: stopping it would leave it stopped"
    return ""


def service_processes(monitor: HealthMonitor) -> list[dict]:
    """Each service's row from the monitor with its start time, process facts and restart refusal."""
    rows = []
    for row in monitor.snapshot()["services"]:
        view = monitor.services[row["name"]]
        start = view.heartbeat.start_ts_ns if view.heartbeat else 0
        rows.append({**row, "start_ts_ns": start, "process": process_facts(row["pid"], start),
                     "running": running_versions.label(row["version"], row["release"]),
                     "restart_refusal": restart_refusal(row)})
    return rows
