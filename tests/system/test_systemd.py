"""The platform under a real systemd (nspawn), installed as a deploy installs it.

The test boots systemd as PID 1 in a container, installs the units, the sysusers file and a
release venv as a deploy does, and runs tests/system/inside/platform.sh there: READY=1 for all
five, kill -9 -> restart, a frozen loop -> watchdog -> restart (the dashboard sees each RED then
GREEN), an admin's restart from the dashboard -> clean exit and a new process,
`systemctl stop scalper.target` -> exit 0, a bad setting -> exit 78 and no restart.
The units read as files: tests/test_systemd_units.py.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import tomllib
from pathlib import Path

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.system

SANDBOX = ROOT / "tests/system/nspawn_sandbox.sh"
CHECK = ROOT / "tests/system/inside/platform.sh"
BUILD_VENV = ROOT / "deploy/release/build-venv.sh"
# Release venvs are cached here between runs, keyed by what goes into them.
VENV_CACHE = Path("/var/tmp")
VENV_PREFIX = "scalper-release-venv-"


def release_venv() -> Path:
    """A release venv built by deploy/release/build-venv.sh, reused while its inputs are unchanged."""
    workspace = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]["members"]
    inputs = [ROOT / "pyproject.toml", ROOT / "uv.lock", BUILD_VENV]
    for member in workspace:
        inputs += sorted(p for p in (ROOT / member).rglob("*")
                         if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
    digest = hashlib.sha256()
    for path in inputs:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    venv = VENV_CACHE / (VENV_PREFIX + digest.hexdigest()[:16])
    if venv.is_dir():
        return venv
    for stale in VENV_CACHE.glob(VENV_PREFIX + "*"):
        shutil.rmtree(stale, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    with tempfile.TemporaryDirectory(dir=VENV_CACHE, prefix="scalper-build-") as tmp:
        r = subprocess.run([BUILD_VENV, f"{tmp}/venv"], capture_output=True, text=True, env=env, timeout=300)
        assert r.returncode == 0, f"build-venv.sh failed:\n{r.stdout}\n{r.stderr}"
        if not venv.exists():  # another run may have built the same one meanwhile
            Path(tmp, "venv").rename(venv)  # relocatable: it may move once built
    return venv


@pytest.mark.timeout(500)  # a release venv build (seconds when uv's cache is warm) plus the run
@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("systemd-nspawn") is None,
                    reason="needs root and systemd-nspawn (apt-get install --no-install-recommends systemd-container)")
def test_platform_under_real_systemd():
    timeout = 150
    r = subprocess.run([SANDBOX, release_venv(), CHECK], capture_output=True, text=True, timeout=timeout + 30,
                       env={**os.environ, "SANDBOX_TIMEOUT": str(timeout)})
    if r.returncode == 77:
        pytest.skip(r.stderr.strip())
    assert r.returncode == 0, f"rc={r.returncode}\n{r.stdout}\n{r.stderr}"
    print(r.stdout)
    claims = CHECK.read_text().count('echo "PASS ')
    assert r.stdout.count("PASS ") == claims, r.stdout
