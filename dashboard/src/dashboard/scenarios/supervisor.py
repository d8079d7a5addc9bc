"""SIGKILL to a service's process, through whatever supervises it, once that process is proven to be the
service's: under systemd, systemd's own kill of the unit's main process (the dashboard's sandboxed unit
can neither see nor signal another unit's processes; polkit lets its user kill exactly the scalper-*
units); otherwise (make run's supervisord, tests) a kill of the pid on this host.

Either way the supervisor then sees a crash and starts the service again, as it would in production.
"""

from __future__ import annotations

import os
import signal

import psutil

from dashboard.scenarios.steps import StepFailed
from dashboard.scenarios.units import systemctl

PROCESS_START_SLACK_S = 30.0  # a heartbeat's start time and the OS's process start time agree this well
KILL_TIMEOUT_S = 10.0  # a kill is quick: no answer this soon means systemd is stuck


def unit(service: str) -> str:
    """The systemd unit that runs `service` (deploy/systemd/)."""
    return f"scalper-{service}.service"


async def sigkill(service: str, *, pid: int, start_s: float, supervisor: str) -> str:
    """Kill -9 `service`, whose heartbeat reported `pid` started at `start_s` under `supervisor`;
    what was done, or StepFailed when the process cannot be proven to be the service's or not killed."""
    if supervisor == "systemd":
        return await _by_systemd(service, pid)
    return _by_pid(service, pid, start_s)


async def _by_systemd(service: str, pid: int) -> str:
    """The unit's main pid must be the heartbeat's: then systemd kills that process."""
    main_pid = await systemctl("show", "--property=MainPID", "--value", unit(service), timeout_s=KILL_TIMEOUT_S)
    if main_pid != str(pid):
        raise StepFailed(f"{unit(service)} on this host has main pid {main_pid or 'none'}, "
                         f"not the heartbeat's pid {pid}")
    # SIGKILL to the unit's main process only (a polkit-checked KillUnit call, verb "kill")
    await systemctl("kill", "--kill-who=main", "--signal=SIGKILL", unit(service), timeout_s=KILL_TIMEOUT_S)
    return f"SIGKILL sent to pid {pid} by systemd ({unit(service)})"


def _by_pid(service: str, pid: int, start_s: float) -> str:
    """The pid on this host must run the service's program and have started when its heartbeat says."""
    try:
        proc = psutil.Process(pid)
        cmdline = " ".join(proc.cmdline())
        started = proc.create_time()
    except psutil.Error as e:
        raise StepFailed(f"pid {pid} is not a process on this host: {e}") from e
    if f"scalper-{service}" not in cmdline or abs(start_s - started) > PROCESS_START_SLACK_S:
        raise StepFailed(f"pid {pid} on this host is not {service}'s process: {cmdline!r}")
    os.kill(pid, signal.SIGKILL)
    return f"SIGKILL sent to pid {pid}"
