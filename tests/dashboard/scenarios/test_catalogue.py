"""dashboard.scenarios.catalogue: an admin runs every production scenario from the integration tests page
against five real services and the simulator (full boot, kill -9 of market and strategy, the private WS
dropped, rapid-fire orders with TP/SL), each GREEN step by step."""

from __future__ import annotations

import msgspec
import pytest
import redis
from common.manual_order import MANUAL_PREFIX

from common import constants as c
from dashboard.scenarios.catalogue import SCENARIOS
from tests.dashboard.conftest import Dashboard, dashboard_up
from tests.support import start_service, wait_until

pytestmark = pytest.mark.platform


def _finished(client, run_id: str) -> dict | None:
    runs = {r["run_id"]: r for r in client.get("/api/scenarios").json()["runs"]}
    run = runs.get(run_id)
    return run if run and run["status"] != "RUNNING" else None


def test_admin_runs_every_scenario_against_the_platform(cluster, tmp_path):
    d = Dashboard(cluster.base, cluster.env, cluster.procs["dashboard"])
    wait_until(lambda: dashboard_up(d.base), timeout=30, interval=0.2, what="dashboard /healthz")
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
        done = run("full-boot")
        stopped, started, green, normal = (s["detail"] for s in done["steps"])
        assert stopped.startswith("make run (supervisor none): no systemd units here"), stopped
        assert started == "make run: nothing to start, the supervisor started the services"
        assert green == "5 services GREEN" and "execution NORMAL" in normal, (green, normal)
        assert "newest recovery plan: start ok" in normal, normal
        for service in ("market", "strategy"):
            old = cluster.procs[service]
            done = run(f"{service}-crash")
            assert old.returncode == -9 and cluster.procs[service] is not old
            assert done["steps"][1]["detail"] == f"SIGKILL sent to pid {old.pid}"
            assert f"MODULE_CRASH: {service}" in done["steps"][3]["detail"]
            _assert_fault_figures(done)
        done = run("private-ws-drop")
        assert "CRIT private WebSocket lost" in done["steps"][2]["detail"]
        _assert_fault_figures(done)
        done = run("rapid-fire")
        claim, sent, fills, protection, closes, flat, release = (s["detail"] for s in done["steps"][1:])
        assert claim.startswith("the strategy's entries on BTCUSDT, ETHUSDT paused for the run"), claim
        assert "strategy pauses BTCUSDT,ETHUSDT; positions on them: none, open orders on them: none" in claim
        assert release == "the strategy's entries on BTCUSDT, ETHUSDT resumed", release
        assert sent.startswith("10 intents sent in ") and "5 buy" in sent and "5 sell" in sent, sent
        assert fills.startswith("10/10 filled, 10 orders for 10 intents (none doubled, none left open); "
                                "intent→ack p50 "), fills
        assert "open positions, all with TP and SL: " in protection, protection
        assert "BTCUSDT Buy 0.005 TP " in protection and "ETHUSDT Sell 0.05 TP " in protection, protection
        assert closes.startswith("2 reduce-only intents sent: "), closes
        assert flat == "2/2 closes filled in full; BTCUSDT flat, ETHUSDT flat", flat
        figures = done["figures"]
        assert {k: figures[k] for k in ("intents_sent", "intents_filled", "intents_refused", "intents_unfilled",
                                        "closes_sent", "closes_filled", "closes_refused", "closes_unfilled")} == {
            "intents_sent": 10, "intents_filled": 10, "intents_refused": 0, "intents_unfilled": 0,
            "closes_sent": 2, "closes_filled": 2, "closes_refused": 0, "closes_unfilled": 0}
        assert 0 < figures["ack_p50_ms"] <= figures["ack_max_ms"], figures
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
    assert 'data-figure="ack_p50_ms"' in page and 'data-figure="recover_s"' in page
    assert all(f'data-scenario="{key}"' in page for key in SCENARIOS)


def _assert_fault_figures(done: dict) -> None:
    """A fault run measured when it was detected, when execution was SAFE and when all was back, in order,
    and lost no bus message."""
    figures = done["figures"]
    assert 0 <= figures["detect_s"] <= figures["recover_s"], figures
    assert 0 <= figures["safe_s"] <= figures["recover_s"], figures
    assert figures["messages_lost"] == 0 and figures["dead_letters"] == 0, figures
    assert done["steps"][-1]["detail"] == ("dead letters 0; consumer groups behind: none; trimmed before a group "
                                           "read them: none")
