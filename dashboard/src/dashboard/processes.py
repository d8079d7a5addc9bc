"""The services' processes: memory, CPU and threads as each service's heartbeat reports them (the
dashboard under systemd cannot see another unit's process), and whether the dashboard can have one
restarted."""

from __future__ import annotations

import msgspec
from common.schemas import Heartbeat

from dashboard import running_versions
from dashboard.health_monitor import HealthMonitor


def process_facts(hb: Heartbeat | None) -> dict:
    """The service's process as its newest heartbeat has it; empty before one (or from an older version)."""
    return msgspec.structs.asdict(hb.process) if hb is not None and hb.process is not None else {}


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
        hb = monitor.services[row["name"]].heartbeat
        rows.append({**row, "start_ts_ns": hb.start_ts_ns if hb else 0, "process": process_facts(hb),
                     "running": running_versions.label(row["version"], row["release"]),
                     "restart_refusal": restart_refusal(row)})
    return rows
