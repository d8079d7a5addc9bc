"""A real service's /metrics: Prometheus conventions (promtool) and no secret in metrics or logs."""

from __future__ import annotations

import shutil
import subprocess
import urllib.request

import pytest

from common import constants as c
from tests.common.conftest import log_events, stop
from tests.support import service_env, start_service, wait_until

pytestmark = pytest.mark.service

SECRET = "s3cr3t-value-that-must-not-leak"


def test_metrics_pass_promtool_and_no_secret_leaks(redis_url, procs, tmp_path):
    env = service_env(redis_url, BYBIT_API_KEY=SECRET, BYBIT_API_SECRET=SECRET + "2",
                      TELEGRAM_BOT_TOKEN=SECRET + "3", LOG_LEVEL="DEBUG")
    log = tmp_path / "worker.log"
    procs.append(worker := start_service("worker", env, log))
    started = wait_until(lambda: next((e for e in log_events(log) if e["event"] == "starting"), None),
                         timeout=30, what="the worker's starting line")

    def scrape() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{started['metrics_port']}/metrics", timeout=5) as resp:
            return resp.read().decode()

    # Wait until the bus metrics have samples (a heartbeat went out), so promtool sees them all.
    def scrape_after_heartbeat() -> str | None:
        text = scrape()
        return text if f'stream="{c.SYS_HEALTH}"' in text else None

    text = wait_until(scrape_after_heartbeat, timeout=30, what="heartbeat metrics")
    assert stop(worker) == 0
    assert "scalper_heartbeats_total" in text and 'scalper_build_info{service="worker"' in text
    assert SECRET not in text
    assert SECRET not in log.read_text()

    if shutil.which("promtool") is None:
        pytest.skip("promtool is not installed (Debian package: prometheus)")
    lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True,
                          timeout=60, check=False)
    assert lint.returncode == 0 and lint.stdout + lint.stderr == "", lint.stdout + lint.stderr
