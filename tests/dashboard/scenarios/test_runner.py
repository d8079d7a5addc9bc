"""dashboard.scenarios.runner: a run cut off by a dashboard stop ends RED at the next start; fault and
trading scenarios are refused unless EXECUTION_MODE is SIM; the isolated replay runs in every mode."""

from __future__ import annotations

from types import SimpleNamespace

import msgspec
import pytest
import redis
from common.config import ExecutionMode

from common import constants as c
from dashboard.records import RunRecord, StepRecord
from dashboard.scenarios.catalogue import SCENARIOS
from dashboard.scenarios.runner import Runner
from tests.dashboard.conftest import admin_env, start_dashboard, stop

pytestmark = pytest.mark.service


def test_a_run_cut_off_by_a_dashboard_stop_ends_red_at_the_next_start(redis_url, tmp_path, telegram):
    run = RunRecord(run_id="00000000000000000001", scenario="full-boot", title="1. Full boot", by="boss",
                    start_ns=1, steps=[StepRecord(name="five services GREEN", timeout_s=60, outcome="running")])
    r = redis.Redis.from_url(redis_url)
    r.hset(c.SCENARIO_RUNS_KEY, run.run_id, msgspec.json.encode(run))
    r.close()
    d = start_dashboard(redis_url, tmp_path, **admin_env(telegram))
    try:
        [got] = d.session().get("/api/scenarios").json()["runs"]
    finally:
        stop(d.proc)
    assert got["status"] == "RED" and got["end_ns"] > 0
    assert got["errors"] == ["interrupted: the dashboard stopped during the run"]
    assert [(s["outcome"], s["detail"]) for s in got["steps"]] == [("failed", "interrupted")]


@pytest.mark.parametrize("mode", [ExecutionMode.DRY, ExecutionMode.LIVE])
async def test_fault_and_trading_scenarios_are_refused_unless_sim(mode):
    rt = SimpleNamespace(settings=SimpleNamespace(execution_mode=mode))
    runner = Runner(rt=rt, monitor=None, alerts=None)
    for key in ("market-crash", "private-ws-drop", "strategy-crash", "rapid-fire"):
        assert "only when EXECUTION_MODE is SIM" in runner.refusal(SCENARIOS[key])
    assert runner.refusal(SCENARIOS["full-boot"]) == ""
    assert runner.refusal(SCENARIOS["replay-isolation"]) == ""  # trades nothing live, sandboxed
