"""dashboard.health_monitor: a YELLOW that a service reports about itself reaches the operator with its
reason.

The market service on the real simulator: the operator sets the simulator's clock 3 s behind with
`scalperctl sim`, so every book update arrives 3 s after its exchange timestamp; the service finds its feed
latency over MARKET_LATENCY_WARN_MS (1000 ms) and says YELLOW. The dashboard's /api/health (open local
mode) shows market YELLOW with that reason, and GREEN again once the clock is reset."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import fakeredis.aioredis
import msgspec
import pytest
import redis

from common import constants as c
from common.schemas import Heartbeat, Severity, Status, decode, encode, now_ns
from dashboard.health_monitor import BOOT_GRACE_S, DEGRADED_ALERT_AFTER_S, HealthMonitor

from tests.dashboard.conftest import start_dashboard, stop
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
        self.server = fakeredis.FakeServer()  # .connected = False: Redis lost
        self.redis = fakeredis.aioredis.FakeRedis(server=self.server)
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


def test_a_dashboard_back_after_its_heartbeat_expired_shows_its_own_restart(redis_url, tmp_path):
    """The dashboard is stopped until its heartbeat key has expired, then started again, as a supervisor
    restarts a crashed service after a slow start: /api/health counts the restart and sys.alerts has it."""
    r = redis.Redis.from_url(redis_url)
    first = start_dashboard(redis_url, tmp_path, ADMIN_PASSWORD_HASH="")

    def own(d) -> dict:
        return next(s for s in d.client().get("/api/health").json()["services"] if s["name"] == "dashboard")

    try:
        wait_until(lambda: own(first)["status"] == "GREEN", timeout=30, interval=0.2,
                   what="the dashboard GREEN on its own heartbeats")
        stop(first.proc)
        wait_until(lambda: not r.exists(c.heartbeat_key("dashboard")), timeout=30, interval=0.2,
                   what="the dashboard's heartbeat key expired")
        again = start_dashboard(redis_url, tmp_path, ADMIN_PASSWORD_HASH="")
        try:
            wait_until(lambda: own(again)["restarts"] == 1, timeout=30, interval=0.2, what="its restart counted")
            titles = [decode(f[c.PAYLOAD_FIELD]).title for _, f in r.xrange(c.SYS_ALERTS)]
            assert titles.count("dashboard restarted") == 1, titles
        finally:
            stop(again.proc)
    finally:
        r.close()


def _beat(service: str, boot_id: str, ts_ns: int) -> Heartbeat:
    return Heartbeat(service=service, cluster="scalper", pid=ord(boot_id[0]), start_ts_ns=1_000, version="0",
                     status=Status.GREEN, ts_ns=ts_ns, boot_id=boot_id)


@pytest.mark.parametrize("backlog_first", [False, True], ids=["seeded first", "backlog first"])
async def test_a_restart_while_the_monitor_was_down_is_counted_whichever_it_reads_first(backlog_first):
    """Execution restarts while the dashboard is down: the restarted dashboard reads the heartbeat key
    (the new instance's) and the stream's backlog (the old instance's last beats, then the new one's)
    in either order, and counts the restart once."""
    bus = _Bus()
    t = now_ns()
    before = HealthMonitor(SimpleNamespace(bus=bus))
    await before.on_heartbeat(_beat("execution", "a", t))
    await bus.redis.set(c.heartbeat_key("execution"), encode(_beat("execution", "b", t + 3_000_000_000)))
    backlog = [_beat("execution", "a", t + 1_000_000_000), _beat("execution", "b", t + 2_000_000_000),
               _beat("execution", "b", t + 3_000_000_000)]
    monitor = HealthMonitor(SimpleNamespace(bus=bus))
    if not backlog_first:
        await monitor.load()
    for hb in backlog:
        await monitor.on_heartbeat(hb)
    if backlog_first:
        await monitor.load()
    await monitor.on_heartbeat(backlog[0])  # redelivered after a crash of ours: not a restart again
    assert monitor.services["execution"].restarts == 1
    assert [a["title"] for a in bus.alerts].count("execution restarted") == 1


async def test_a_restart_is_counted_when_the_backlog_holds_only_the_new_process():
    """The old process's last beats were handled before the dashboard went down; the backlog holds only
    the new one's, and the consumer may handle it before the monitor's task has read anything."""
    bus = _Bus()
    t = now_ns()
    before = HealthMonitor(SimpleNamespace(bus=bus))
    await before.on_heartbeat(_beat("execution", "a", t))
    monitor = HealthMonitor(SimpleNamespace(bus=bus))
    await monitor.on_heartbeat(_beat("execution", "b", t + 2_000_000_000))
    await monitor.load()
    assert monitor.services["execution"].restarts == 1


async def test_a_process_seen_only_in_its_heartbeat_key_then_restarted_is_a_restart():
    """The dashboard starts just after market's last beat went to the stream (its group, made at the
    stream's end, never gets it): it knows that process only from the heartbeat key. Market is killed
    and started again: the new process's first beat on the stream is a restart, not a first sighting."""
    bus = _Bus()
    t = now_ns()
    await bus.redis.set(c.heartbeat_key("market"), encode(_beat("market", "a", t)))
    monitor = HealthMonitor(SimpleNamespace(bus=bus))
    await monitor.load()
    assert monitor.services["market"].heartbeat.boot_id == "a"
    await monitor.on_heartbeat(_beat("market", "b", t + 4_000_000_000))
    assert monitor.services["market"].restarts == 1
    assert [a["title"] for a in bus.alerts] == ["market restarted", "market is RED"]


async def test_the_dashboards_own_restart_is_counted_however_long_it_took():
    """The dashboard's own heartbeat key has expired by the time it is back (a restart longer than the
    heartbeat TTL): its new instance is still a restart, as any other service's."""
    bus = _Bus()
    before = HealthMonitor(SimpleNamespace(bus=bus))
    await before.on_heartbeat(_beat("dashboard", "first", now_ns()))
    monitor = HealthMonitor(SimpleNamespace(bus=bus))
    await monitor.load()  # no heartbeat key left
    await monitor.on_heartbeat(_beat("dashboard", "second", now_ns()))
    assert monitor.services["dashboard"].restarts == 1
    assert monitor.services["dashboard"].status == Status.RED  # held RED, as any service after a restart
    assert [a["title"] for a in bus.alerts] == ["dashboard restarted"]


async def test_a_restart_long_past_in_the_backlog_is_counted_without_holding_the_service_red():
    """Execution restarted ten minutes ago, while the dashboard was down: the restart is counted and
    alerted, but the RED hold that makes a live restart visible ended long ago; the service is GREEN."""
    bus = _Bus()
    t = now_ns() - 600 * 1_000_000_000
    before = HealthMonitor(SimpleNamespace(bus=bus))
    await before.on_heartbeat(_beat("execution", "a", t))
    monitor = HealthMonitor(SimpleNamespace(bus=bus))
    await monitor.on_heartbeat(_beat("execution", "b", t + 2_000_000_000))  # the backlog's oldest beat of b
    await monitor.on_heartbeat(_beat("execution", "b", now_ns()))  # and its newest: alive now
    assert monitor.services["execution"].restarts == 1
    assert monitor.services["execution"].status == Status.GREEN
    assert [a["title"] for a in bus.alerts] == ["execution restarted"]


async def test_a_service_never_seen_since_the_dashboard_started_is_alerted_once_the_boot_grace_is_over():
    """After a reboot execution never comes up (a bad config refused, over and over): no heartbeat ever.
    Within the boot's grace that is a slow start, not an alert; past it, a CRIT alert says so, once."""
    bus = _Bus()
    monitor = HealthMonitor(SimpleNamespace(bus=bus))
    for name in c.SERVICES:
        if name != "execution":
            await monitor.on_heartbeat(_beat(name, "a", now_ns()))
    assert bus.alerts == []  # still within the grace
    monitor.started_ns -= int((BOOT_GRACE_S + 1) * 1e9)
    for name in c.SERVICES:
        if name != "execution":
            await monitor.on_heartbeat(_beat(name, "a", now_ns()))
    await monitor.evaluate()
    assert [(a["title"], a["detail"]) for a in bus.alerts] == [
        ("execution is RED", f"no heartbeat since the dashboard started {BOOT_GRACE_S + 1:.0f} s ago")]


async def test_a_service_already_red_when_the_dashboard_starts_is_alerted_once_the_boot_grace_is_over():
    """The dashboard restarts while the strategy reports itself RED (a stalled task): no change to RED is
    ever seen, and its first beats may be old ones from the backlog; past the grace, still RED is alerted."""
    bus = _Bus()
    red = msgspec.structs.replace(_beat("strategy", "a", now_ns()), status=Status.RED,
                                  reason="stalled: features")
    await bus.redis.set(c.heartbeat_key("strategy"), encode(red))
    monitor = HealthMonitor(SimpleNamespace(bus=bus))
    await monitor.load()
    assert monitor.services["strategy"].status == Status.RED and bus.alerts == []
    monitor.started_ns -= int((BOOT_GRACE_S + 1) * 1e9)
    await monitor.on_heartbeat(msgspec.structs.replace(red, ts_ns=now_ns()))
    await monitor.evaluate()
    assert [(a["title"], a["detail"]) for a in bus.alerts if "strategy" in a["title"]] == [
        ("strategy is RED", "stalled: features")]


async def test_a_restart_whose_record_redis_lost_is_counted_when_the_beat_comes_again():
    """Redis is lost as the monitor records market's new process: the handler fails, the consumer reads
    the heartbeat again once Redis is back (it was not acked), and then the restart is counted, once."""
    bus = _Bus()
    monitor = HealthMonitor(SimpleNamespace(bus=bus))
    t = now_ns()
    await monitor.on_heartbeat(_beat("market", "a", t))
    again = _beat("market", "b", t + 4_000_000_000)
    bus.server.connected = False
    with pytest.raises(redis.exceptions.ConnectionError):
        await monitor.on_heartbeat(again)
    bus.server.connected = True
    await monitor.on_heartbeat(again)  # redelivered by the consumer
    assert monitor.services["market"].restarts == 1
    assert int(await bus.redis.hget(c.HEALTH_RESTARTS_KEY, "market")) == 1
    assert [a["title"] for a in bus.alerts].count("market restarted") == 1


async def test_a_restart_read_from_the_key_and_the_stream_at_once_is_counted_once():
    """The restarted dashboard's load() and its consumer bring the new process's beat at the same time."""
    bus = _Bus()
    t = now_ns()
    await HealthMonitor(SimpleNamespace(bus=bus)).on_heartbeat(_beat("execution", "a", t))
    new = _beat("execution", "b", t + 4_000_000_000)
    await bus.redis.set(c.heartbeat_key("execution"), encode(new))
    monitor = HealthMonitor(SimpleNamespace(bus=bus))
    await asyncio.gather(monitor.load(), monitor.on_heartbeat(new))
    assert monitor.services["execution"].restarts == 1
    assert int(await bus.redis.hget(c.HEALTH_RESTARTS_KEY, "execution")) == 1


async def test_a_service_yellow_for_ten_minutes_is_alerted_once_per_spell():
    """Market's books stale for ten minutes (the strategy trades on nothing): one CRIT alert with the reason,
    not one per evaluation; GREEN then YELLOW again starts a new spell."""
    bus = _Bus()
    monitor = HealthMonitor(SimpleNamespace(bus=bus))
    yellow = msgspec.structs.replace(_beat("market", "a", now_ns()), status=Status.YELLOW,
                                     reason="stale books: BTCUSDT")
    await monitor.on_heartbeat(yellow)
    assert bus.alerts == []  # YELLOW for a moment: the service says why, no alert
    view = monitor.services["market"]
    view.status_since_ns -= int((DEGRADED_ALERT_AFTER_S + 1) * 1e9)
    for _ in range(3):
        await monitor.on_heartbeat(msgspec.structs.replace(yellow, ts_ns=now_ns()))
    assert [(a["title"], a["severity"], a["detail"]) for a in bus.alerts] == [
        (f"market YELLOW for {DEGRADED_ALERT_AFTER_S / 60:.0f} min", Severity.CRIT, "stale books: BTCUSDT")]
    green = msgspec.structs.replace(yellow, ts_ns=now_ns(), status=Status.GREEN, reason="")
    await monitor.on_heartbeat(green)
    await monitor.on_heartbeat(msgspec.structs.replace(yellow, ts_ns=now_ns()))
    view.status_since_ns -= int((DEGRADED_ALERT_AFTER_S + 1) * 1e9)
    await monitor.evaluate()
    assert len(bus.alerts) == 2
