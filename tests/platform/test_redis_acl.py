"""deploy/redis/users.acl: one Redis user per service. The market service's credentials get NOPERM on
adding to exec.intents and sys.control, each stream takes XADD only from its producers, and the five
services, each connecting as its own user, run GREEN, place a manual order end to end and take safe mode
without a single command refused."""

from __future__ import annotations

import importlib.util
import json
import subprocess

import httpx
import pytest
import redis

from common import constants as c
from tests.dashboard.conftest import Dashboard, admin_env, telegram  # noqa: F401 (a fixture)
from tests.support import ROOT, SERVICES, RedisServer, service_env, start_service, start_sim, wait_until

pytestmark = pytest.mark.platform

_spec = importlib.util.spec_from_file_location("service_env", ROOT / "deploy/local/service_env.py")
service_env_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(service_env_module)
# Who may add to which stream (DESIGN.md section 3); every other pair must get NOPERM.
PRODUCERS = {
    c.EXEC_INTENTS: {"strategy", "dashboard", "scalperctl"},
    c.EXEC_EVENTS: {"execution", "scalperctl"},
    c.SYS_CONTROL: {"dashboard", "scalperctl"},
    c.MARKET_TRADES: {"market", "scalperctl"},
}


@pytest.fixture
def acl_redis(tmp_path):
    """A redis-server with the ACL users (the test harness as an unrestricted default user)."""
    passwords = service_env_module.redis_passwords(tmp_path / "run")
    acl = tmp_path / "users.acl"
    acl.write_text(service_env_module.render_acl(passwords, default="user default on nopass ~* &* +@all"))
    server = RedisServer(tmp_path / "redis")
    args = ["redis-server", "--port", str(server.port), "--bind", "127.0.0.1", "--save", "",
            "--dir", str(server.data_dir), "--aclfile", str(acl)]
    server.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    admin = server.client()
    wait_until(lambda: _pings(admin), timeout=10, what="redis-server with the ACL file")
    yield server, passwords, admin
    admin.close()
    server.stop()


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def _as(server: RedisServer, passwords: dict[str, str], user: str) -> redis.Redis:
    return redis.Redis.from_url(service_env_module.user_url(user=user, password=passwords[user],
                                                             port=server.port))


def test_the_market_services_credentials_get_noperm_on_intents_and_control(acl_redis):
    server, passwords, _ = acl_redis
    market = _as(server, passwords, "market")
    for stream in (c.EXEC_INTENTS, c.SYS_CONTROL):
        with pytest.raises(redis.exceptions.NoPermissionError):
            market.xadd(stream, {"d": b"forged"})
    with pytest.raises(redis.exceptions.NoPermissionError):
        market.set(c.SAFE_MODE_KEY, "0")  # nor lift safe mode
    with pytest.raises(redis.exceptions.NoPermissionError):
        market.set(c.heartbeat_key("execution"), b"forged")  # nor forge another's heartbeat
    market.close()


def test_each_stream_takes_xadd_only_from_its_producers(acl_redis):
    server, passwords, _ = acl_redis
    for user in service_env_module.REDIS_USERS:
        client = _as(server, passwords, user)
        for stream, producers in PRODUCERS.items():
            try:
                client.xadd(stream, {"d": b"x"})
                allowed = True
            except redis.exceptions.NoPermissionError:
                allowed = False
            assert allowed == (user in producers), (user, stream)
        client.close()


def test_five_services_as_their_own_users_run_green_trade_and_take_safe_mode(acl_redis, tmp_path, telegram):
    server, passwords, admin = acl_redis
    sim = start_sim(tmp_path=tmp_path)
    common = dict(**admin_env(telegram), DATA_DIR=str(tmp_path / "data"), EXECUTION_MODE="SIM",
                  SYMBOLS="BTCUSDT,ETHUSDT", BYBIT_REST_URL=sim.rest, BYBIT_WS_PUBLIC_URL=sim.ws_public,
                  BYBIT_WS_PRIVATE_URL=sim.ws_private, BYBIT_API_KEY=sim.key, BYBIT_API_SECRET=sim.secret)
    base_env = service_env(server.url, **common)
    procs = {}
    try:
        for name in SERVICES:
            env = dict(base_env, REDIS_URL=service_env_module.user_url(user=name, password=passwords[name],
                                                                       port=server.port))
            procs[name] = start_service(name, env, tmp_path / f"{name}.log")
        d = Dashboard(f"http://127.0.0.1:{base_env['WEB_PORT']}", base_env, procs["dashboard"])
        wait_until(lambda: _up(d.base), timeout=60, what="the dashboard")
        cl = d.session()
        wait_until(lambda: _green(cl) == 5, timeout=90, interval=0.5, what="five GREEN under ACLs")
        csrf = {"X-CSRF-Token": d.csrf(cl)}
        sent = cl.post("/api/orders", headers=csrf, data={"side": "Buy", "symbol": "BTCUSDT", "qty": "0.001"})
        assert sent.status_code == 200, sent.text
        wait_until(lambda: admin.hlen(c.EXEC_POSITIONS_KEY) > 0, timeout=30, what="the order's position")
        assert cl.post("/api/safe-mode/on", headers=csrf).status_code == 200
        wait_until(lambda: all(s["safe_mode"] for s in cl.get("/api/health").json()["services"]), timeout=20,
                   what="safe mode in every heartbeat")
        refused = [json.dumps({k: str(v) for k, v in e.items()}) for e in admin.acl_log()]
        assert refused == [], refused
    finally:
        sim.stop()
        for p in procs.values():
            p.terminate()
        for p in procs.values():
            p.wait(timeout=20)


def _up(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _green(cl: httpx.Client) -> int:
    r = cl.get("/api/health")
    return sum(s["status"] == "GREEN" for s in r.json()["services"]) if r.status_code == 200 else 0
