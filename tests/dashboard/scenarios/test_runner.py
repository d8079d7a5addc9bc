"""dashboard.scenarios.runner: a run cut off by a dashboard stop ends RED at the next start; fault and
trading scenarios are refused unless EXECUTION_MODE is SIM; the isolated replay runs in every mode."""

from __future__ import annotations

import json
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
from tests.support import wait_until

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
    rt = SimpleNamespace(settings=SimpleNamespace(execution_mode=mode), supervisor="supervisord")
    runner = Runner(rt=rt, monitor=None, alerts=None)
    for key in ("deploy", "market-crash", "private-ws-drop", "strategy-crash", "rapid-fire"):
        assert "only when EXECUTION_MODE is SIM" in runner.refusal(SCENARIOS[key])
    assert runner.refusal(SCENARIOS["full-boot"]) == ""  # under make run it only checks the platform
    rt.supervisor = "systemd"
    assert runner.refusal(SCENARIOS["full-boot"]) == ("full-boot stops the platform's services under systemd: "
                                                      "it runs only when EXECUTION_MODE is SIM")
    assert runner.refusal(SCENARIOS["replay-isolation"]) == ""  # trades nothing live, sandboxed


def test_a_deploy_run_cut_off_by_the_dashboard_restart_goes_on_in_the_new_process(redis_url, tmp_path, telegram):
    """The roll restarts the dashboard: the run resumes in the step it was in, with the facts it had."""
    out = tmp_path / "data/scenarios/deploy"
    out.mkdir(parents=True)
    run_id = "00000000000000000007"
    (out / "request").write_text(run_id)  # the root side was started by the process that stopped
    (out / "progress.json").write_text('{"phase": "returning", "ts": 1000, "from": "aaa", "commit": "bbb", '
                                       '"deployed": "bbb"}')
    names = [s.name for s in SCENARIOS["deploy"].steps]
    steps = [StepRecord(name=names[0], timeout_s=60, outcome="ok", detail="noted"),
             StepRecord(name=names[1], timeout_s=1800, outcome="running")] + [
        StepRecord(name=n, timeout_s=60) for n in names[2:]]
    facts = {"release": "aaa", "instances": {s: "before" for s in c.SERVICES}, "dlq": "0-0", "t0": 990.0}
    run = RunRecord(run_id=run_id, scenario="deploy", title="2. Deploy", by="boss", start_ns=1, steps=steps,
                    resume=json.dumps(facts))
    r = redis.Redis.from_url(redis_url)
    r.hset(c.SCENARIO_RUNS_KEY, run.run_id, msgspec.json.encode(run))
    r.close()
    d = start_dashboard(redis_url, tmp_path, **admin_env(telegram))
    try:
        admin = d.session()

        def third_step_ok() -> dict | None:
            [got] = admin.get("/api/scenarios").json()["runs"]
            return got if got["steps"][2]["outcome"] == "ok" else None

        got = wait_until(third_step_ok, timeout=30, interval=0.3, what="the resumed run past the new version")
    finally:
        stop(d.proc)
    assert got["status"] == "RUNNING" and got["errors"] == []
    assert [s["outcome"] for s in got["steps"]] == ["ok", "ok", "ok", "running", "pending"]
    assert got["steps"][1]["detail"] == "bbb deployed over aaa in 10.0 s"
    assert got["steps"][2]["detail"].startswith("all five restarted (new instances)")
    assert got["figures"] == {"deploy_s": 10.0}
    assert (out / "request").read_text() == run_id  # not asked again
