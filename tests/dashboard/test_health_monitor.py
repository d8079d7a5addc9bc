"""dashboard.health_monitor: a YELLOW that a service reports about itself reaches the operator with its
reason.

The market service on the real simulator: the operator sets the simulator's clock 3 s behind with
`scalperctl sim`, so every book update arrives 3 s after its exchange timestamp; the service finds its feed
latency over MARKET_LATENCY_WARN_MS (1000 ms) and says YELLOW. The dashboard's /api/health (open local
mode) shows market YELLOW with that reason, and GREEN again once the clock is reset."""

from __future__ import annotations

from types import SimpleNamespace

import fakeredis.aioredis
import pytest

from common.schemas import Heartbeat, Status, now_ns
from dashboard.health_monitor import HealthMonitor

from tests.dashboard.conftest import stop
from tests.support import scalperctl, service_env, start_service, start_sim, wait_until

pytestmark = pytest.mark.service


@pytest.fixture
def sim(tmp_path):
    proc = start_sim(tmp_path=tmp_path)
    yield proc
    proc.stop()


def _sim_switch(sim, redis_url: str, *args: str) -> None:
    """`scalperctl sim ...`, as the operator flips the simulator's fault switches."""
    env = service_env(redis_url, BYBIT_REST_URL=sim.rest, BYBIT_API_KEY=sim.key,
                      BYBIT_API_SECRET=sim.secret)
    done = scalperctl("sim", *args, env=env)
    assert done.returncode == 0, done.stderr


def test_a_slow_feed_shows_market_yellow_with_its_reason(redis_url, tmp_path, sim, open_dashboard):
    market = start_service("market", service_env(
        redis_url, EXECUTION_MODE="SIM", SYMBOLS="BTCUSDT",
        BYBIT_REST_URL=sim.rest, BYBIT_WS_PUBLIC_URL=sim.ws_public, BYBIT_WS_PRIVATE_URL=sim.ws_private,
    ), tmp_path / "market.log")
    anon = open_dashboard.client()

    def shown() -> dict:
        return next(s for s in anon.get("/api/health").json()["services"] if s["name"] == "market")

    try:
        wait_until(lambda: shown()["status"] == "GREEN", timeout=60, interval=0.2, what="market GREEN")
        _sim_switch(sim, redis_url, "set", "clock_skew_ms=-3000")
        yellow = wait_until(lambda: (s := shown())["status"] == "YELLOW" and s, timeout=30, interval=0.2,
                            what="market YELLOW on /api/health")
        assert yellow["reason"].startswith("feed latency: BTCUSDT"), yellow
        _sim_switch(sim, redis_url, "reset")
        wait_until(lambda: shown()["status"] == "GREEN", timeout=60, interval=0.2, what="market GREEN again")
    finally:
        stop(market)


class _Bus:
    """The two things the monitor asks of the bus: Redis (fakeredis) and alerts (recorded)."""

    def __init__(self) -> None:
        self.redis = fakeredis.aioredis.FakeRedis()
        self.alerts: list[dict] = []

    async def alert(self, **kw) -> None:
        self.alerts.append(kw)


async def test_a_restart_with_the_same_pid_and_start_time_is_still_a_restart():
    """pid 1 in a container and a coarse clock repeat pid and start time: the boot id tells them apart."""
    bus = _Bus()
    monitor = HealthMonitor(SimpleNamespace(bus=bus))
    beat = dict(service="market", cluster="scalper", pid=1, start_ts_ns=1_000, version="0", status=Status.GREEN)
    await monitor.on_heartbeat(Heartbeat(**beat, ts_ns=now_ns(), boot_id="first"))
    await monitor.on_heartbeat(Heartbeat(**beat, ts_ns=now_ns(), boot_id="first"))
    assert monitor.services["market"].restarts == 0 and bus.alerts == []  # the same process beating on
    await monitor.on_heartbeat(Heartbeat(**beat, ts_ns=now_ns(), boot_id="second"))
    assert monitor.services["market"].restarts == 1
    assert monitor.services["market"].status == Status.RED  # held RED for a while after a restart
    assert [a["title"] for a in bus.alerts] == ["market restarted", "market is RED"]
