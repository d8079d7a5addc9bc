"""Platform level: `make run` as an operator starts it, driven from outside (HTTP, CLI, kill -9)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from common import constants as c
from common.bybit.sim_account import SIM_API_SECRET
from tests.dashboard.conftest import ADMIN, ADMIN_HASH, Dashboard
from tests.support import ROOT, SERVICES, RedisServer, free_port, wait_until

pytestmark = pytest.mark.platform


def _health(admin: httpx.Client) -> dict[str, dict]:
    try:
        r = admin.get("/api/health", timeout=2)
    except httpx.HTTPError:
        return {}
    return {s["name"]: s for s in r.json()["services"]} if r.status_code == 200 else {}


def _all_green(admin: httpx.Client) -> bool:
    h = _health(admin)
    return len(h) >= 5 and all(h[s]["status"] == "GREEN" for s in SERVICES)


def _login(base: str, env: dict[str, str], proc) -> tuple[Dashboard, httpx.Client]:
    """The operator's browser: wait for the dashboard, log in as the env file's admin."""
    d = Dashboard(base, env, proc)

    def up() -> bool:
        try:
            return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(up, timeout=90, interval=0.5, what="the dashboard up after make run")
    return d, d.session()


def _operator_env(tmp_path, **extra: str) -> dict[str, str]:
    """The operator's shell: none of the settings a test sets, metrics on free ports, run files in tmp."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "NOTIFY_SOCKET") and not k.startswith(("BYBIT_", "ADMIN_"))}
    env.update({f"{s.upper()}_METRICS_PORT": "0" for s in SERVICES})
    env.update(SCALPER_VAR=str(tmp_path / "var"), WEB_PORT=str(free_port()), **extra)
    return env


@contextmanager
def _make_run(env: dict[str, str], tmp_path) -> Iterator[subprocess.Popen]:
    """`make run` in its own session, as from a terminal; everything it started is stopped after."""
    log = open(tmp_path / "make-run.log", "wb")
    proc = subprocess.Popen(["make", "run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def platform(tmp_path):
    redis_port = free_port()
    env = _operator_env(tmp_path, SCALPER_REDIS_PORT=str(redis_port), SCALPER_ENV_FILE="/nonexistent/.env",
                        ADMIN_USERNAME=ADMIN, ADMIN_PASSWORD_HASH=ADMIN_HASH)
    base = f"http://127.0.0.1:{env['WEB_PORT']}"
    cli_env = dict(env, REDIS_URL=f"redis://127.0.0.1:{redis_port}/0")
    with _make_run(env, tmp_path) as proc:
        yield proc, base, cli_env, tmp_path


def test_make_run_boots_five_green_and_heals_a_kill_9(platform):
    proc, base, cli_env, tmp = platform
    d, admin = _login(base, cli_env, proc)
    wait_until(lambda: _all_green(admin), timeout=90, interval=0.5, what="five GREEN after make run")

    _no_secret_in_ps_and_private_files(proc, tmp / "var")

    status = subprocess.run([str(ROOT / ".venv/bin/scalperctl"), "status", "--json"], env=cli_env,
                            capture_output=True, text=True, timeout=30)
    assert status.returncode == 0, status.stdout + status.stderr
    assert {s["name"] for s in json.loads(status.stdout)["services"]} == set(SERVICES)

    old_pid = _health(admin)["market"]["pid"]
    os.kill(old_pid, signal.SIGKILL)
    red = wait_until(lambda: _health(admin).get("market", {}).get("status") == "RED", timeout=5, interval=0.1,
                     what="market RED within 5 s of kill -9")
    assert red
    wait_until(lambda: _all_green(admin), timeout=60, interval=0.5, what="market GREEN again by itself")
    market = _health(admin)["market"]
    assert market["pid"] != old_pid
    assert market["restarts"] >= 1

    # an admin restarts strategy from the services page: it stops cleanly and supervisord starts it again
    before = _health(admin)["strategy"]
    assert before["supervisor"] == "supervisord"
    r = admin.post("/api/services/strategy/restart", headers={"X-CSRF-Token": d.csrf(admin)})
    assert r.status_code == 200 and r.json()["pid"] == before["pid"], r.text
    wait_until(lambda: _health(admin)["strategy"]["pid"] not in (None, before["pid"]) and _all_green(admin),
               timeout=60, interval=0.5, what="strategy GREEN again under a new pid")
    assert _health(admin)["strategy"]["restarts"] == before["restarts"] + 1
    log = (tmp / "var" / "log" / "supervisord.log").read_text()
    assert "exited: strategy (exit status 0; expected)" in log, log[-2000:]

    # safe mode through the CLI reaches every service and shows on the dashboard
    on = subprocess.run([str(ROOT / ".venv/bin/scalperctl"), "safe-mode", "on"], env=cli_env,
                        capture_output=True, text=True, timeout=30)
    assert on.returncode == 0, on.stderr
    wait_until(lambda: all(s["safe_mode"] for s in _health(admin).values()), timeout=15,
               what="safe mode on in every heartbeat")

    # Ctrl-C (SIGINT to the terminal's process group) stops everything cleanly
    os.killpg(proc.pid, signal.SIGINT)
    proc.wait(timeout=45)
    left = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True)
    assert left.stdout == "", f"processes left after Ctrl-C: {left.stdout}"
    log = (tmp / "var" / "log" / "supervisord.log").read_text()
    for svc in SERVICES:
        assert f"stopped: {svc} (exit status 0)" in log, log[-2000:]


def _no_secret_in_ps_and_private_files(proc, var) -> None:
    """No secret on any command line of make run's processes (ps shows them to every user), and the files
    holding secrets or who did what are the owner's alone (mode 0600)."""
    passwords = json.loads((var / "run" / "redis" / "passwords.json").read_text())
    secrets = [*passwords.values(), ADMIN_HASH, SIM_API_SECRET]
    ps = subprocess.run(["ps", "-ww", "-s", str(proc.pid), "-o", "args="], capture_output=True,
                        text=True).stdout
    assert "scalper-exchange-sim" in ps and not [s for s in secrets if s in ps], ps
    for name in ("users.db", "audit.jsonl", "alert_log.jsonl", "session.key"):
        assert (var / name).stat().st_mode & 0o777 == 0o600, name
    assert (var / "run" / "supervisord.conf").stat().st_mode & 0o777 == 0o600


def test_make_run_follows_the_env_file_and_scalperctl_sim_needs_no_settings(tmp_path):
    """REDIS_URL and the admin only in the env file: make run starts no Redis of its own, every
    service beats into the file's Redis, the file's bcrypt hash logs in; `scalperctl sim` finds
    make run's simulator and its account with nothing set beyond the env file."""
    external = RedisServer(tmp_path / "external-redis").start()
    try:
        env_file = tmp_path / "scalper.env"
        env_file.write_text(f"REDIS_URL={external.url}\nADMIN_USERNAME={ADMIN}\n"
                            f"ADMIN_PASSWORD_HASH={ADMIN_HASH}\n")
        # make run's own Redis would listen here: a free port, so a wrong start could not hide
        env = _operator_env(tmp_path, SCALPER_ENV_FILE=str(env_file), SCALPER_REDIS_PORT=str(free_port()))
        with _make_run(env, tmp_path) as proc:
            _, admin = _login(f"http://127.0.0.1:{env['WEB_PORT']}", env, proc)
            wait_until(lambda: _all_green(admin), timeout=90, interval=0.5, what="five GREEN after make run")
            beats = external.client()
            assert all(beats.exists(c.heartbeat_key(s)) for s in SERVICES)
            var = tmp_path / "var"
            assert "[program:redis]" not in (var / "run" / "supervisord.conf").read_text()
            assert not (var / "log" / "redis.log").exists()

            sim = subprocess.run([str(ROOT / ".venv/bin/scalperctl"), "sim", "status"], env=env,
                                 capture_output=True, text=True, timeout=30, check=False)
            assert sim.returncode == 0, sim.stdout + sim.stderr
            assert json.loads(sim.stdout)["symbols"] == ["BTCUSDT", "ETHUSDT"]
    finally:
        external.stop()
