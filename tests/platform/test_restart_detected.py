"""Platform level: a restart is a crash, however fast. Under `make run` supervisord starts a killed
process again within about a second, before the old heartbeat expires; execution must still see the
crash (a new instance of a required module, a new Redis run_id): SAFE, an alert, a recovery plan, NORMAL.

The kills are real `kill -9`s and the restarts are supervisord's own, with its own timing."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator

import pytest
import redis

from common import constants as c
from common.schemas import Alert, Heartbeat, decode, now_ns
from tests.platform.test_make_run import _make_run, _operator_env
from tests.support import SERVICES, free_port, wait_until

pytestmark = pytest.mark.platform


class Platform:
    """`make run` seen through its Redis, as the execution service and an operator's tools see it."""

    def __init__(self, r: redis.Redis) -> None:
        self.r = r

    def up(self) -> bool:
        try:
            return all(self.r.exists(c.heartbeat_key(s)) for s in SERVICES) and self.state() == "NORMAL"
        except redis.ConnectionError:
            return False

    def state(self) -> str:
        raw = self.r.get(c.EXEC_STATE_KEY)
        return json.loads(raw)["state"] if raw else ""

    def heartbeat(self, service: str) -> Heartbeat | None:
        raw = self.r.get(c.heartbeat_key(service))
        return decode(raw) if raw else None

    def plans_since(self, t_ns: int) -> list[dict]:
        plans = map(json.loads, self.r.lrange(c.EXEC_RECOVERY_KEY, 0, -1))
        return [p for p in plans if p["start_ns"] >= t_ns]

    def alerts_since(self, t_ns: int, key: str) -> list[Alert]:
        return [a for _, f in self.r.xrange(c.SYS_ALERTS, min=f"{t_ns // 1_000_000}")
                if (a := decode(f[c.PAYLOAD_FIELD])).key == key]

    def recovered_since(self, t_ns: int, trigger: str) -> dict | None:
        """A recovery plan started after `t_ns` for `trigger` that ended ok, with execution NORMAL."""
        try:
            done = [p for p in self.plans_since(t_ns) if trigger in p["trigger"] and p["outcome"] == "ok"]
            return done[0] if done and self.state() == "NORMAL" else None
        except redis.ConnectionError:
            return None


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> Iterator[Platform]:
    tmp = tmp_path_factory.mktemp("make-run")
    port = free_port()
    env = _operator_env(tmp, SCALPER_REDIS_PORT=str(port), SCALPER_ENV_FILE="/nonexistent/.env")
    with _make_run(env, tmp):
        p = Platform(redis.Redis(port=port, socket_timeout=5))
        wait_until(p.up, timeout=180, interval=0.5, what="five heartbeats, execution NORMAL after make run")
        yield p


@pytest.mark.parametrize("module", [c.MARKET, c.STRATEGY])
def test_a_required_module_restarted_by_supervisord_is_module_crash(platform, module):
    """Dashboard scenarios 3 and 5: kill -9, supervisord restarts it, execution: SAFE, CRIT, plan, NORMAL.

    Whether the new process beats before the old heartbeat expires depends on the machine's load; the
    plan names the restart either way (test_failover covers a key that never goes missing)."""
    wait_until(platform.up, timeout=60, interval=0.5, what="the platform NORMAL before the kill")
    old = platform.heartbeat(module)
    fault = now_ns()
    os.kill(old.pid, signal.SIGKILL)
    back = wait_until(lambda: (hb := platform.heartbeat(module)) and hb.pid != old.pid and hb, timeout=30,
                      interval=0.1, what=f"{module} started again by supervisord")
    crit = wait_until(lambda: platform.alerts_since(fault, c.exec_module_alert_key(module)), timeout=30,
                      interval=0.2, what=f"execution's MODULE_CRASH alert for {module}")
    assert crit[0].severity.value == "CRIT" and "MODULE_CRASH" in crit[0].title, crit
    restart = f"MODULE_CRASH: {module} restarted"
    plan = wait_until(lambda: platform.recovered_since(fault, restart), timeout=120, interval=0.5,
                      what="a recovery plan for the restart, then NORMAL")
    assert f"pid {old.pid} -> {back.pid}" in plan["trigger"]


def test_a_redis_restarted_by_supervisord_is_noticed_and_reconciled(platform):
    """kill -9 of redis-server: supervisord restarts it, execution sees the new run_id: SAFE, alert, plan."""
    wait_until(platform.up, timeout=60, interval=0.5, what="the platform NORMAL before the kill")
    info = platform.r.info("server")
    fault = now_ns()
    os.kill(info["process_id"], signal.SIGKILL)

    def new_run_id() -> str | None:
        try:
            run_id = platform.r.info("server")["run_id"]
        except redis.ConnectionError:
            return None
        return run_id if run_id != info["run_id"] else None

    wait_until(new_run_id, timeout=30, interval=0.1, what="redis-server started again by supervisord")
    plan = wait_until(lambda: platform.recovered_since(fault, "Redis restarted"), timeout=120, interval=0.5,
                      what="a recovery plan after the Redis restart, then NORMAL")
    assert info["run_id"] in plan["trigger"]
    assert platform.alerts_since(fault, c.EXEC_REDIS_ALERT)
