"""The import rules of DESIGN.md section 10, checked by import-linter's contracts in pyproject.toml."""

import subprocess
import tomllib

import pytest

from tests.support import ROOT, VENV_BIN

pytestmark = pytest.mark.unit


def test_import_contracts_hold():
    r = subprocess.run([str(VENV_BIN / "lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout


def test_every_workspace_member_is_its_own_distribution():
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members = root["tool"]["uv"]["workspace"]["members"]
    names = {tomllib.loads((ROOT / m / "pyproject.toml").read_text())["project"]["name"] for m in members}
    assert len(names) == len(members)
    assert {"common", "market_service", "strategy_service", "execution_service", "dashboard", "worker"} <= set(members)
