"""deploy/systemd, read without running it: five units and the target, `systemd-analyze verify` and
`security` accept them, and the sysusers file makes the scalper user. Running them under a real
systemd is tests/system/test_systemd.py."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.unit

UNITS = ROOT / "deploy/systemd"
SERVICE_UNITS = sorted(UNITS.glob("scalper-*.service"))
# The only complaint allowed from `systemd-analyze verify` on a machine without a release venv.
MISSING_PROGRAM = re.compile(
    r"^scalper-\w+\.service: Command /opt/scalper/venv/bin/scalper-\w+ is not executable: No such file or directory$")


def test_five_services_and_the_target():
    assert [p.name for p in SERVICE_UNITS] == [f"scalper-{s}.service" for s in
                                              ("dashboard", "execution", "market", "strategy", "worker")]
    assert (UNITS / "scalper.target").is_file()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze (package systemd)")
def test_units_pass_systemd_analyze_verify():
    r = subprocess.run(["systemd-analyze", "verify", *SERVICE_UNITS, UNITS / "scalper-dashboard.socket",
                        UNITS / "scalper.target"],
                       capture_output=True, text=True, timeout=60)
    complaints = [line for line in (r.stdout + r.stderr).splitlines() if not MISSING_PROGRAM.match(line)]
    assert complaints == []


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze (package systemd)")
def test_every_service_is_sandboxed():
    """The shared drop-in (scalper-.service.d/) reaches each unit: user scalper, exposure below 2."""
    for unit in SERVICE_UNITS:
        r = subprocess.run(["systemd-analyze", "security", "--offline=true", unit],
                           capture_output=True, text=True, timeout=60)
        assert "Service runs as root user" not in r.stdout, unit.name
        score = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", r.stdout).group(1))
        assert score < 2.0, f"{unit.name}: exposure {score}\n{r.stdout}"


@pytest.mark.skipif(shutil.which("systemd-sysusers") is None, reason="needs systemd-sysusers (package systemd)")
def test_sysusers_creates_the_scalper_user(tmp_path):
    (tmp_path / "etc").mkdir()
    subprocess.run(["systemd-sysusers", f"--root={tmp_path}", UNITS / "scalper.sysusers"],
                   check=True, capture_output=True, timeout=30)
    user = next(line for line in (tmp_path / "etc/passwd").read_text().splitlines() if line.startswith("scalper:"))
    assert user.split(":")[5:] == ["/var/lib/scalper", "/usr/sbin/nologin"]


def test_the_dashboard_is_bounded_in_memory_and_tasks():
    """A flood of requests cannot take the host: the web-facing unit has MemoryMax= and TasksMax=."""
    unit = (UNITS / "scalper-dashboard.service").read_text()
    assert re.search(r"^MemoryMax=\d+[KMG]$", unit, re.M) and re.search(r"^TasksMax=\d+$", unit, re.M)
