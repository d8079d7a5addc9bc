"""A real dashboard process with an admin from the env, a fake Telegram, and a logged-in client; or the
whole platform (five services and the simulator) as `make run` starts it."""

from __future__ import annotations

import re
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import bcrypt
import httpx
import pytest

from tests.dashboard.faketelegram import FakeTelegram
from tests.support import SERVICES, service_env, start_service, start_sim, wait_until

ADMIN, PASSWORD = "boss", "right-Pa55word"
TOKEN = "123456:SECRETtesttoken"
# Cost 4 keeps the tests quick; the service checks whatever cost the hash says.
ADMIN_HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
CSRF_INPUT = re.compile(r'name="csrf" value="([^"]+)"')
ACTIONS = [
    "/api/safe-mode/on",
    "/api/reconcile",
    "/api/config/reload",
    "/api/alerts/1/ack",
    "/api/profile",
    "/api/scenarios/full-boot/run",
    "/api/services/market/restart",
    "/api/orders",
]
PAGES = [
    "/",
    "/services",
    "/alerts",
    "/safe-mode",
    "/positions",
    "/market",
    "/quality",
    "/latency",
    "/signals",
    "/profiles",
    "/config",
    "/scenarios",
]


@pytest.fixture
def telegram():
    fake = FakeTelegram().start()
    yield fake
    fake.stop()


class Dashboard:
    def __init__(self, base: str, env: dict[str, str], proc) -> None:
        self.base, self.env, self.proc = base, env, proc

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=10)

    def login(self, user: str = ADMIN, password: str = PASSWORD) -> tuple[httpx.Client, httpx.Response]:
        """Through the form, as a browser: GET /login (CSRF cookie + field), POST it back."""
        c = self.client()
        token = CSRF_INPUT.search(c.get("/login").text).group(1)
        r = c.post("/login", data={"username": user, "password": password, "csrf": token})
        return c, r

    def session(self, user: str = ADMIN, password: str = PASSWORD) -> httpx.Client:
        c, r = self.login(user, password)
        assert r.status_code == 303, r.text
        return c

    def csrf(self, c: httpx.Client) -> str:
        """The session's CSRF token, as every page's forms carry it."""
        return CSRF_INPUT.search(c.get("/config").text).group(1)


def start_dashboard(redis_url: str, tmp_path, **extra: str) -> Dashboard:
    env = service_env(redis_url, DATA_DIR=str(tmp_path / "data"), **extra)
    proc = start_service("dashboard", env, tmp_path / "dashboard.log")
    d = Dashboard(f"http://127.0.0.1:{env['WEB_PORT']}", env, proc)

    def up() -> bool:
        try:
            return httpx.get(d.base + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(lambda: up() or proc.poll() is not None, timeout=30, interval=0.2, what="dashboard /healthz")
    assert proc.poll() is None, (tmp_path / "dashboard.log").read_text()[-2000:]
    return d


# What execution's /metrics could say: a tick-to-order series, an empty stage, a counter.
EXEC_EXPOSITION = """\
# HELP scalper_exec_latency_seconds Order latency by stage
# TYPE scalper_exec_latency_seconds histogram
scalper_exec_latency_seconds_bucket{le="0.001",stage="tick_to_order"} 3.0
scalper_exec_latency_seconds_bucket{le="0.01",stage="tick_to_order"} 3.0
scalper_exec_latency_seconds_bucket{le="0.1",stage="tick_to_order"} 9.0
scalper_exec_latency_seconds_bucket{le="+Inf",stage="tick_to_order"} 10.0
scalper_exec_latency_seconds_count{stage="tick_to_order"} 10.0
scalper_exec_latency_seconds_sum{stage="tick_to_order"} 0.7
scalper_exec_latency_seconds_bucket{le="0.001",stage="ack"} 0.0
scalper_exec_latency_seconds_bucket{le="0.01",stage="ack"} 0.0
scalper_exec_latency_seconds_bucket{le="0.1",stage="ack"} 0.0
scalper_exec_latency_seconds_bucket{le="+Inf",stage="ack"} 0.0
scalper_exec_latency_seconds_count{stage="ack"} 0.0
scalper_exec_latency_seconds_sum{stage="ack"} 0.0
# HELP scalper_exec_fills_total Fills by liquidity
# TYPE scalper_exec_fills_total counter
scalper_exec_fills_total{liquidity="maker",symbol="BTCUSDT"} 4.0
"""


@contextmanager
def fake_metrics(text: str) -> Iterator[int]:
    """A Prometheus endpoint on a free port that answers every GET with `text`; yields the port."""
    body = text.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def stop(proc) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


def admin_env(telegram) -> dict[str, str]:
    """The env-file admin and Telegram pointed at the fake Bot API."""
    return {"ADMIN_USERNAME": ADMIN, "ADMIN_PASSWORD_HASH": ADMIN_HASH, "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_CHAT_ID": "42", "TELEGRAM_API_URL": telegram.url}


@pytest.fixture
def dashboard(redis_url, tmp_path, telegram):
    d = start_dashboard(redis_url, tmp_path, **admin_env(telegram))
    yield d
    stop(d.proc)


@pytest.fixture
def open_dashboard(redis_url, tmp_path):
    d = start_dashboard(redis_url, tmp_path, ADMIN_PASSWORD_HASH="")
    yield d
    stop(d.proc)


@dataclass
class Cluster:
    procs: dict[str, subprocess.Popen]
    base: str
    env: dict[str, str]


@pytest.fixture
def cluster(redis_url, tmp_path, telegram):
    """Five services in SIM mode against a fresh simulator, the admin from the env, the fake Telegram."""
    sim = start_sim(tmp_path=tmp_path)
    env = service_env(
        redis_url,
        **admin_env(telegram),
        DATA_DIR=str(tmp_path / "data"),
        EXECUTION_MODE="SIM",
        SYMBOLS="BTCUSDT,ETHUSDT",
        BYBIT_REST_URL=sim.rest,
        BYBIT_WS_PUBLIC_URL=sim.ws_public,
        BYBIT_WS_PRIVATE_URL=sim.ws_private,
        BYBIT_API_KEY=sim.key,
        BYBIT_API_SECRET=sim.secret,
    )
    procs = {name: start_service(name, env, tmp_path / f"{name}.log") for name in SERVICES}
    try:
        yield Cluster(procs=procs, base=f"http://127.0.0.1:{env['WEB_PORT']}", env=env)
    finally:
        sim.stop()
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs.values():
            p.wait(timeout=20)
