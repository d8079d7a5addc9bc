"""dashboard.scenarios.supervisor: kill -9 of a service goes through its supervisor and only ever hits a
process proven to be the service's. Outside systemd: the pid on this host, its program and start time
checked. Under systemd: the unit's main pid must be the heartbeat's, then `systemctl kill` (a real
systemctl here refuses, no systemd unit runs the process; tests/deploy/test_scenarios.py sees it kill
for real under systemd)."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil
import pytest

from dashboard.scenarios.steps import StepFailed
from dashboard.scenarios.supervisor import sigkill

pytestmark = pytest.mark.service


@pytest.fixture
def process():
    """A real process whose command line names scalper-market, as the service's entry point does."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "scalper-market"])
    yield proc
    proc.kill()
    proc.wait()


def started(proc: subprocess.Popen) -> float:
    return psutil.Process(proc.pid).create_time()


async def test_without_systemd_the_proven_local_pid_gets_sigkill(process):
    done = await sigkill("market", pid=process.pid, start_s=started(process), supervisor="supervisord")
    assert done == f"SIGKILL sent to pid {process.pid}"
    assert process.wait(10) == -9


@pytest.mark.parametrize(("service", "shift_s"), [("strategy", 0.0), ("market", 3600.0)])
async def test_a_pid_of_another_program_or_started_at_another_time_is_not_killed(process, service, shift_s):
    with pytest.raises(StepFailed, match=f"pid {process.pid} on this host is not {service}'s process"):
        await sigkill(service, pid=process.pid, start_s=started(process) + shift_s, supervisor="")
    time.sleep(0.2)
    assert process.poll() is None


async def test_a_pid_gone_from_this_host_fails_the_step():
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with pytest.raises(StepFailed, match=f"pid {gone.pid} is not a process on this host"):
        await sigkill("market", pid=gone.pid, start_s=time.time(), supervisor="")


async def test_under_systemd_only_the_units_main_pid_is_killed_by_systemctl(process):
    # No systemd unit runs this process: systemctl either cannot reach systemd (not PID 1 here) or
    # names another main pid; either way nothing is killed.
    with pytest.raises(StepFailed, match="scalper-market.service"):
        await sigkill("market", pid=process.pid, start_s=started(process), supervisor="systemd")
    time.sleep(0.2)
    assert process.poll() is None
