"""deploy/prometheus: a valid scrape config that covers every service at its configured port, and alert
rules that promtool accepts and whose unit tests (rules/scalper.rules.test.yml) pass."""

import shutil
import subprocess

import pytest
import yaml

from common.config import Settings
from tests.support import ROOT, SERVICES

pytestmark = pytest.mark.unit

CONFIG = ROOT / "deploy/prometheus/prometheus.yml"


def test_scrape_config_targets_every_service_at_its_default_port():
    doc = yaml.safe_load(CONFIG.read_text())
    targets = {sc["labels"]["service"]: sc["targets"] for job in doc["scrape_configs"] for sc in job["static_configs"]}
    defaults = Settings.model_fields
    assert set(targets) == set(SERVICES)
    for svc in SERVICES:
        assert targets[svc] == [f"127.0.0.1:{defaults[f'{svc}_metrics_port'].default}"]


@pytest.mark.skipif(shutil.which("promtool") is None, reason="needs promtool (apt-get install prometheus)")
def test_promtool_accepts_the_config():
    r = subprocess.run(["promtool", "check", "config", str(CONFIG)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.skipif(shutil.which("promtool") is None, reason="needs promtool (apt-get install prometheus)")
def test_promtool_accepts_the_alert_rules_and_their_tests_pass():
    rules = ROOT / "deploy/prometheus/rules"
    for cmd in (["check", "rules", rules / "scalper.rules.yml"], ["test", "rules", rules / "scalper.rules.test.yml"]):
        r = subprocess.run(["promtool", *map(str, cmd)], capture_output=True, text=True, timeout=60, check=False)
        assert r.returncode == 0, r.stdout + r.stderr
