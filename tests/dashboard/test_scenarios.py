"""The integration tests page: an admin runs production scenarios against five real services and the
simulator (full boot, kill -9 of market and strategy, the private WS dropped, rapid-fire orders with
TP/SL); viewers, missing CSRF and non-SIM modes are refused; P&L today from exec.events."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from types import SimpleNamespace

import httpx
import msgspec
import pytest
import redis
from common.config import ExecutionMode
from common.manual_order import MANUAL_PREFIX
from common.schemas import FillEvent, PositionEvent, encode

from common import constants as c
from dashboard import daily_pnl
from dashboard.records import RunRecord, StepRecord
from dashboard.scenarios.catalogue import SCENARIOS
from dashboard.scenarios.runner import Runner
from tests.dashboard.conftest import Dashboard, admin_env, start_dashboard, stop
from tests.support import VENV_BIN, start_service, wait_until


def _finished(client, run_id: str) -> dict | None:
    runs = {r["run_id"]: r for r in client.get("/api/scenarios").json()["runs"]}
    run = runs.get(run_id)
    return run if run and run["status"] != "RUNNING" else None


def test_admin_runs_every_scenario_against_the_platform(cluster, tmp_path):
    d = Dashboard(cluster.base, cluster.env, cluster.procs["dashboard"])
    wait_until(lambda: _up(d), timeout=30, interval=0.2, what="dashboard /healthz")
    admin = d.session()
    token = d.csrf(admin)
    assert "integration tests" in admin.get("/scenarios").text
    hb = redis.Redis.from_url(cluster.env["REDIS_URL"])

    def run(key: str) -> dict:
        r = admin.post(f"/api/scenarios/{key}/run", headers={"X-CSRF-Token": token})
        assert r.status_code == 200, r.text
        run_id = r.json()["run_id"]

        def supervised() -> dict | None:
            """Plays systemd (Restart=always): a killed service starts again once its heartbeat expired."""
            for name, proc in cluster.procs.items():
                if proc.poll() is not None and not hb.exists(c.heartbeat_key(name)):
                    cluster.procs[name] = start_service(name, cluster.env, tmp_path / f"{name}.log")
            return _finished(admin, run_id)

        done = wait_until(supervised, timeout=300, interval=0.5, what=f"the {key} run")
        assert done["status"] == "GREEN", (done["errors"], [(s["name"], s["outcome"], s["detail"]) for s in done["steps"]])
        assert [s["outcome"] for s in done["steps"]] == ["ok"] * len(SCENARIOS[key].steps)
        return done

    try:
        run("full-boot")
        for service in ("market", "strategy"):
            old = cluster.procs[service]
            done = run(f"{service}-crash")
            assert old.returncode == -9 and cluster.procs[service] is not old
            assert done["steps"][1]["detail"] == f"SIGKILL sent to pid {old.pid}"
            assert f"MODULE_CRASH: {service}" in done["steps"][3]["detail"]
        done = run("private-ws-drop")
        assert "CRIT private WebSocket lost" in done["steps"][2]["detail"]
        done = run("rapid-fire")
        sent, fills, protection, closes, flat = (s["detail"] for s in done["steps"][1:])
        assert sent.startswith("10 intents sent in ") and "5 buy" in sent and "5 sell" in sent, sent
        assert fills.startswith("10/10 filled, 10 orders for 10 intents (none doubled, none left open); "
                                "intent→ack p50 "), fills
        assert "open positions, all with TP and SL: " in protection, protection
        assert "BTCUSDT Buy 0.005 TP " in protection and "ETHUSDT Sell 0.05 TP " in protection, protection
        assert closes.startswith("2 reduce-only intents sent: "), closes
        assert flat == "2/2 closes filled in full; BTCUSDT flat, ETHUSDT flat", flat
        records = [msgspec.json.decode(v) for v in hb.hvals(c.EXEC_INTENTS_KEY)]
        manual = [r for r in records if r["intent_id"].startswith(MANUAL_PREFIX)]
        assert [r["status"] for r in manual] == ["filled"] * 12
        assert sum(r["reduce_only"] for r in manual) == 2
        assert all(r["take_profit"] and r["stop_loss"] for r in manual if not r["reduce_only"])
        assert not {b"BTCUSDT", b"ETHUSDT"} & set(hb.hkeys(c.EXEC_POSITIONS_KEY))
    finally:
        hb.close()
    page = admin.get("/scenarios").text
    assert f'data-run="{done["run_id"]}"' in page and "status-GREEN" in page
    assert all(f'data-scenario="{key}"' in page for key in SCENARIOS)


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


def _up(d: Dashboard) -> bool:
    try:
        return d.client().get("/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_viewer_and_a_missing_csrf_token_are_refused(dashboard):
    add = subprocess.run(
        [str(VENV_BIN / "scalperctl"), "user", "add", "watcher", "--role", "viewer"],
        input="viewer-Pa55word\n", env=dashboard.env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert add.returncode == 0, add.stderr
    viewer = dashboard.session("watcher", "viewer-Pa55word")
    r = viewer.post("/api/scenarios/full-boot/run", headers={"X-CSRF-Token": dashboard.csrf(viewer)})
    assert r.status_code == 403 and r.json()["detail"] == "viewers cannot act"
    admin = dashboard.session()
    r = admin.post("/api/scenarios/full-boot/run")
    assert r.status_code == 403 and r.json()["detail"] == "CSRF token missing or wrong"
    assert 'action="/api/scenarios/full-boot/run"' not in viewer.get("/scenarios").text
    assert admin.get("/api/scenarios").json()["runs"] == []


@pytest.mark.parametrize("mode", [ExecutionMode.DRY, ExecutionMode.LIVE])
async def test_fault_and_trading_scenarios_are_refused_unless_sim(mode):
    rt = SimpleNamespace(settings=SimpleNamespace(execution_mode=mode))
    runner = Runner(rt=rt, monitor=None, alerts=None)
    for key in ("market-crash", "private-ws-drop", "strategy-crash", "rapid-fire"):
        assert "only when EXECUTION_MODE is SIM" in runner.refusal(SCENARIOS[key])
    assert runner.refusal(SCENARIOS["full-boot"]) == ""


def _publish(r: redis.Redis, msg, *, ms: int) -> None:
    r.xadd(c.EXEC_EVENTS, {c.PAYLOAD_FIELD: encode(msg)}, id=f"{ms}-0")


async def test_pnl_today_counts_from_the_last_value_before_midnight(redis_url):
    from redis import asyncio as aioredis

    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    midnight_ms = int(datetime(2026, 11, 26, tzinfo=UTC).timestamp() * 1000)
    r = redis.Redis.from_url(redis_url)
    ar = aioredis.Redis.from_url(redis_url)
    try:
        assert "no_data" in await daily_pnl.today(ar, now=now)
        pos = dict(side="", size="0", ts_ns=0)
        _publish(r, PositionEvent(symbol="BTCUSDT", realised_pnl="10", **pos), ms=midnight_ms - 5000)
        _publish(r, PositionEvent(symbol="BTCUSDT", realised_pnl="12.5", **pos), ms=midnight_ms - 1000)
        fill = dict(order_link_id="l", order_id="o", symbol="BTCUSDT", side="Buy", price="1", qty="1",
                    is_maker=True, exchange_ts_ns=0, ts_ns=0)
        _publish(r, FillEvent(exec_id="a", fee="0.25", **fill), ms=midnight_ms + 1000)
        _publish(r, PositionEvent(symbol="BTCUSDT", realised_pnl="15", **pos), ms=midnight_ms + 2000)
        _publish(r, PositionEvent(symbol="ETHUSDT", realised_pnl="-1.5", **pos), ms=midnight_ms + 3000)
        _publish(r, FillEvent(exec_id="b", fee="0.5", **fill), ms=midnight_ms + 4000)
        got = await daily_pnl.today(ar, now=now)
        assert got["realised_pnl"] == "1.0" and got["fees"] == "0.75" and got["fills"] == 2
        assert got["symbols"]["BTCUSDT"] == {"realised_pnl": "2.5", "baseline": "before 00:00"}
        assert got["symbols"]["ETHUSDT"] == {"realised_pnl": "-1.5", "baseline": "none: from 0"}
        assert got["since_ns"] == midnight_ms * 1_000_000
    finally:
        r.close()
        await ar.aclose()


def test_pnl_today_on_the_overview_and_the_api(dashboard, redis_url):
    admin = dashboard.session()
    assert "no fill or position event since 00:00 UTC" in admin.get("/api/pnl/today").json()["no_data"]
    assert 'id="pnl-total">no data' in admin.get("/").text
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    r = redis.Redis.from_url(redis_url)
    try:
        pos = dict(symbol="ETHUSDT", side="", size="0", ts_ns=0)
        _publish(r, PositionEvent(realised_pnl="4", **pos), ms=int(midnight.timestamp() * 1000) - 1)
        r.xadd(c.EXEC_EVENTS, {c.PAYLOAD_FIELD: encode(PositionEvent(realised_pnl="7.25", **pos))})
    finally:
        r.close()
    got = admin.get("/api/pnl/today").json()
    assert got["realised_pnl"] == "3.25" and got["symbols"]["ETHUSDT"]["baseline"] == "before 00:00"
    assert 'id="pnl-total">3.25<' in admin.get("/").text
