"""The service lifecycle as systemd sees it: a real service process, a real notify socket, real Redis."""

from __future__ import annotations

import time

import pytest

from common import constants as c
from common.schemas import (Alert, Command, ControlCommand, Heartbeat, OrderIntent, Status, decode, encode,
                            now_ns)
from tests.common.conftest import log_events, start_module, stop
from tests.common.consumer_app import EFFECTS, HANG_INTENT, SEEN, effect_key
from tests.support import RedisServer, free_port, service_env, wait_until

pytestmark = pytest.mark.service

WATCHDOG_USEC = "1000000"  # pings every 0.5 s


def intent(n: int | str) -> OrderIntent:
    return OrderIntent(intent_id=str(n), symbol="BTCUSDT", side="Buy", qty="0.001", created_ts_ns=now_ns())


def app_env(redis_url: str, notify_path: str | None = None, **extra: str) -> dict[str, str]:
    env = service_env(redis_url, **extra)
    env.pop("WATCHDOG_PID", None)
    if notify_path:
        env.update(NOTIFY_SOCKET=notify_path, WATCHDOG_USEC=WATCHDOG_USEC)
    return env


def test_notifies_ready_status_watchdog_and_stopping(redis_url, redis_server, notify_socket, procs, tmp_path):
    log = tmp_path / "app.log"
    procs.append(app := start_module("service_app", env=app_env(redis_url, notify_socket.path), log_path=log))

    notify_socket.wait_for(lambda ln: ln == "READY=1", what="READY=1")
    wait_until(lambda: len(notify_socket.times("WATCHDOG=1")) >= 3, timeout=30, what="three WATCHDOG=1 pings")
    hb = decode(redis_server.client().get(c.heartbeat_key(c.STRATEGY)))
    assert hb.status is Status.GREEN and hb.details["loop"] == "uvloop"
    assert int(hb.details["gc_frozen"]) > 10_000  # the startup heap, out of the collector's sight
    assert stop(app) == 0
    lines = notify_socket.lines()
    assert lines[0] == "STATUS=connecting to Redis"
    assert "STATUS=running" in lines
    assert "STOPPING=1" in lines and lines.index("READY=1") < lines.index("STOPPING=1")
    assert "STATUS=stopping" in lines
    assert [e["event"] for e in log_events(log)][-1] == "stopped"


def test_a_hung_critical_task_stops_the_watchdog_pings(redis_url, redis_server, notify_socket, procs, tmp_path):
    log = tmp_path / "app.log"
    env = app_env(redis_url, notify_socket.path, TEST_TASK_STALL_S="2")
    procs.append(app := start_module("service_app", env=env, log_path=log))
    wait_until(lambda: len(notify_socket.times("WATCHDOG=1")) >= 2, timeout=30, what="WATCHDOG=1 pings")

    client = redis_server.client()
    client.xadd(c.EXEC_INTENTS, {c.PAYLOAD_FIELD: encode(intent(HANG_INTENT))})

    def withheld() -> bool:
        return any(e["event"] == "watchdog_withheld" and f"consume:{c.EXEC_INTENTS}" in e["stalled"]
                   for e in log_events(log))

    wait_until(withheld, timeout=30, what="the watchdog to name the hung consumer")
    # The loop is alive (it logs, heartbeats), yet no ping goes out any more.
    wait_until(lambda: time.monotonic() - notify_socket.times("WATCHDOG=1")[-1] > 3, timeout=30,
               what="WATCHDOG=1 pings to stop")
    assert app.poll() is None
    hb = decode(client.get(c.heartbeat_key(c.STRATEGY)))
    assert isinstance(hb, Heartbeat) and hb.status is Status.RED and "stalled" in hb.reason
    assert stop(app) == 0  # SIGTERM still ends it: the hung handler is cancelled after the grace time
    client.close()


def test_a_critical_task_that_ends_stops_the_service_for_its_supervisor(redis_url, notify_socket, procs,
                                                                        tmp_path):
    """An unwatched critical task (the private stream: it bounds its own silence) is not held to beats,
    but when it ends the service exits 1, so systemd or supervisord starts it again, instead of
    running on without it (execution SAFE forever)."""
    log = tmp_path / "app.log"
    env = app_env(redis_url, notify_socket.path, TEST_TASK_STALL_S="2", TEST_ENDING_TASK_S="5")
    procs.append(app := start_module("service_app", env=env, log_path=log))
    assert app.wait(timeout=30) == 1
    pings = notify_socket.times("WATCHDOG=1")
    assert len(pings) >= 6 and not [e for e in log_events(log) if e["event"] == "watchdog_withheld"
                                    and "ending" in e["stalled"]]
    [ended] = [e for e in log_events(log) if e["event"] == "critical_task_ended"]
    assert ended["task"] == "ending"


def test_redis_down_at_start_waits_and_says_so_then_becomes_ready(notify_socket, procs, tmp_path):
    port = free_port()
    env = app_env(f"redis://127.0.0.1:{port}/0", notify_socket.path)
    procs.append(app := start_module("service_app", env=env, log_path=tmp_path / "app.log"))

    wait_until(lambda: sum(ln.startswith("STATUS=waiting for Redis") for ln in notify_socket.lines()) >= 2,
               timeout=30, what="two 'waiting for Redis' statuses")
    assert app.poll() is None, "the service must wait for Redis, not exit"
    assert "READY=1" not in notify_socket.lines()

    server = RedisServer(tmp_path / "redis", port=port).start()
    try:
        notify_socket.wait_for(lambda ln: ln == "READY=1", timeout=30, what="READY=1 once Redis is up")
        assert stop(app) == 0
    finally:
        server.stop()


def test_sigterm_during_work_acks_what_was_handled_and_loses_nothing(redis_url, redis_server, procs, tmp_path):
    client = redis_server.client()
    intents = [intent(n) for n in range(500)]
    for msg in intents:
        client.xadd(c.EXEC_INTENTS, {c.PAYLOAD_FIELD: encode(msg)})
    env = app_env(redis_url, TEST_DELAY_MS="5", TEST_BATCH="50")
    log = tmp_path / "app.log"
    procs.append(app := start_module("service_app", env=env, log_path=log))
    wait_until(lambda: client.hlen(SEEN) >= 20, timeout=30, what="the service to be busy")

    assert stop(app) == 0
    handled = client.hlen(EFFECTS)
    assert 0 < handled < len(intents), "SIGTERM should have landed mid-work"
    group = next(g for g in client.xinfo_groups(c.EXEC_INTENTS) if g["name"] == c.STRATEGY.encode())
    assert group["pending"] == 0, "everything handled was acked, nothing read was left unacked"
    assert group["entries-read"] == handled

    procs.append(again := start_module("service_app", env=env, log_path=log))
    wait_until(lambda: client.hlen(EFFECTS) == len(intents), timeout=60, what="the rest to be handled")
    assert stop(again) == 0
    seen = client.hgetall(SEEN)
    assert {k.decode() for k in seen} == {effect_key(m) for m in intents}
    assert set(seen.values()) == {b"1"}, "a clean stop redelivers nothing"
    client.close()


def test_a_service_rides_out_a_redis_restart_that_lost_everything(notify_socket, procs, tmp_path):
    server = RedisServer(tmp_path / "redis").start()  # no AOF: the restart loses streams and groups
    log = tmp_path / "app.log"
    procs.append(app := start_module("service_app", env=app_env(server.url, notify_socket.path), log_path=log))
    client = server.client()
    try:
        wait_until(lambda: client.exists(c.heartbeat_key(c.STRATEGY)), timeout=30, what="a first heartbeat")
        before = intent("before")
        client.xadd(c.EXEC_INTENTS, {c.PAYLOAD_FIELD: encode(before)})
        wait_until(lambda: client.hexists(EFFECTS, effect_key(before)), timeout=30,
                   what="an intent handled before the restart")
        server.stop()
        server.start()
        wait_until(lambda: client.exists(c.heartbeat_key(c.STRATEGY)), timeout=30, what="heartbeats again")
        after = intent("after")
        client.xadd(c.EXEC_INTENTS, {c.PAYLOAD_FIELD: encode(after)})
        wait_until(lambda: client.hexists(EFFECTS, effect_key(after)), timeout=30,
                   what="the consumer group recreated and the intent handled")
        assert app.poll() is None and notify_socket.lines().count("READY=1") == 1
        assert any(e["event"] == "bus_reconnect" for e in log_events(log))
        assert stop(app) == 0
    finally:
        client.close()
        server.stop()


def test_reload_config_applies_a_good_file_and_rejects_a_bad_one_without_stopping(
        redis_url, redis_server, notify_socket, procs, tmp_path):
    env_file = tmp_path / "scalper.env"
    env_file.write_text("LOG_LEVEL=INFO\n")
    env = app_env(redis_url, notify_socket.path, SCALPER_ENV_FILE=str(env_file))
    log = tmp_path / "app.log"
    procs.append(app := start_module("service_app", env=env, log_path=log))
    notify_socket.wait_for(lambda ln: ln == "READY=1", what="READY=1")
    client = redis_server.client()
    wait_until(lambda: any(g["name"] == c.STRATEGY.encode() for g in client.xinfo_groups(c.SYS_CONTROL)),
               timeout=30, what="the sys.control consumer group")

    def reload(n: int) -> None:
        cmd = ControlCommand(command_id=str(n), command=Command.RELOAD_CONFIG, target=c.STRATEGY, ts_ns=now_ns())
        client.xadd(c.SYS_CONTROL, {c.PAYLOAD_FIELD: encode(cmd)})

    env_file.write_text("LOG_LEVEL=DEBUG\n")
    reload(1)
    wait_until(lambda: any(e["event"] == "config_reloaded" for e in log_events(log)), timeout=30,
               what="the reload to be applied")
    assert notify_socket.lines().count("RELOADING=1") == 1 and notify_socket.lines().count("READY=1") == 2

    env_file.write_text("LOG_LEVEL=LOUD\n")
    reload(2)
    rejected = wait_until(lambda: next((e for e in log_events(log) if e["event"] == "reload_rejected"), None),
                          timeout=30, what="the bad reload to be rejected")
    assert "LOG_LEVEL" in rejected["error"]

    def config_alert() -> bool:
        alerts = [decode(f[c.PAYLOAD_FIELD]) for _, f in client.xrange(c.SYS_ALERTS)]
        return any(isinstance(a, Alert) and a.key == c.config_alert_key(c.STRATEGY) for a in alerts)

    wait_until(config_alert, timeout=30, what="an alert about the rejected config")
    assert app.poll() is None
    assert stop(app) == 0
    client.close()


def test_restart_is_refused_by_a_service_that_no_supervisor_would_start_again(
        redis_url, redis_server, notify_socket, procs, tmp_path):
    """NOTIFY_SOCKET and SUPERVISOR_ENABLED set, but the parent is this test: stopping would be for good."""
    log = tmp_path / "app.log"
    env = app_env(redis_url, notify_socket.path, SUPERVISOR_ENABLED="1")
    procs.append(app := start_module("service_app", env=env, log_path=log))
    notify_socket.wait_for(lambda ln: ln == "READY=1", what="READY=1")
    client = redis_server.client()
    hb = wait_until(lambda: client.get(c.heartbeat_key(c.STRATEGY)), timeout=30, what="a heartbeat")
    assert decode(hb).supervisor == ""
    wait_until(lambda: any(g["name"] == c.STRATEGY.encode() for g in client.xinfo_groups(c.SYS_CONTROL)),
               timeout=30, what="the sys.control consumer group")
    cmd = ControlCommand(command_id="r1", command=Command.RESTART, target=c.STRATEGY, issued_by="test",
                         ts_ns=now_ns())
    client.xadd(c.SYS_CONTROL, {c.PAYLOAD_FIELD: encode(cmd)})
    wait_until(lambda: any(e["event"].startswith("restart_refused") for e in log_events(log)), timeout=30,
               what="the restart to be refused")
    assert app.poll() is None and "STOPPING=1" not in notify_socket.lines()
    assert stop(app) == 0
    client.close()
