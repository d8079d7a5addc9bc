"""A real dashboard process with an admin from the env, a fake Telegram, and a logged-in client; or the
whole platform (five services and the simulator) as `make run` starts it; the app in this process over
ASGI; and Chromium pages logged in and live."""

from __future__ import annotations

import re
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import bcrypt
import fakeredis
import httpx
import pytest
import redis
from common.config import Settings
from dashboard.app import create_app

from tests.browser import chromium
from tests.dashboard.faketelegram import FakeTelegram
from tests.support import SERVICES, VENV_BIN, service_env, start_service, start_sim, wait_until
from tests.worker.harness import start_worker, worker_env

ADMIN, PASSWORD = "boss", "right-Pa55word"
VIEWER, VIEWER_PASSWORD = "watcher", "viewer-Pa55word"
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
    "/api/jobs/backup/run",
    "/api/profile/versions/balanced/3/approve",
]
PAGES = [
    "/",
    "/services",
    "/alerts",
    "/safe-mode",
    "/positions",
    "/trades",
    "/market",
    "/quality",
    "/latency",
    "/signals",
    "/profiles",
    "/jobs",
    "/deploys",
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

    def client(self, address: str = "127.0.0.1") -> httpx.Client:
        """A client connecting from `address` (any of 127.0.0.0/8 reaches the dashboard on loopback)."""
        return httpx.Client(base_url=self.base, timeout=10,
                            transport=httpx.HTTPTransport(local_address=address))

    def login(self, user: str = ADMIN, password: str = PASSWORD, *,
              address: str = "127.0.0.1") -> tuple[httpx.Client, httpx.Response]:
        """Through the form, as a browser from `address`: GET /login (CSRF cookie + field), POST it back."""
        c = self.client(address)
        page = c.get("/login")
        field = CSRF_INPUT.search(page.text)
        assert field, f"GET /login: {page.status_code} without a CSRF field: {page.text[:300]}"
        token = field.group(1)
        r = c.post("/login", data={"username": user, "password": password, "csrf": token})
        return c, r

    def session(self, user: str = ADMIN, password: str = PASSWORD, *,
                address: str = "127.0.0.1") -> httpx.Client:
        c, r = self.login(user, password, address=address)
        assert r.status_code == 303, r.text
        return c

    def csrf(self, c: httpx.Client) -> str:
        """The session's CSRF token, as every page's forms carry it."""
        return CSRF_INPUT.search(c.get("/config").text).group(1)

    def viewer(self) -> httpx.Client:
        """A session of VIEWER, a viewer added with `scalperctl user add`, as an operator adds one."""
        add = subprocess.run([str(VENV_BIN / "scalperctl"), "user", "add", VIEWER, "--role", "viewer"],
                             input=f"{VIEWER_PASSWORD}\n", env=self.env, capture_output=True, text=True,
                             timeout=60, check=False)
        assert add.returncode == 0, add.stderr
        return self.session(VIEWER, VIEWER_PASSWORD)


def start_dashboard(redis_url: str, tmp_path, **extra: str) -> Dashboard:
    env = service_env(redis_url, DATA_DIR=str(tmp_path / "data"), **extra)
    proc = start_service("dashboard", env, tmp_path / "dashboard.log")
    d = Dashboard(f"http://127.0.0.1:{env['WEB_PORT']}", env, proc)

    wait_until(lambda: dashboard_up(d.base) or proc.poll() is not None, timeout=30, interval=0.2,
               what="dashboard /healthz")
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
def bus(redis_url):
    """A client of the test's Redis, to publish on the streams as the other services do."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def worker(redis_url, tmp_path, bus, dashboard):
    """A worker process on the dashboard's Redis and DATA_DIR: `worker()` starts it (and waits until the
    dashboard sees it GREEN, so actions sent to it are not refused); stopped after the test."""
    procs = []
    admin = dashboard.session()

    def start():
        procs.append(start_worker(worker_env(redis_url, tmp_path / "data"), tmp_path / "worker.log", bus))
        wait_until(lambda: worker_green(admin), timeout=20, interval=0.2, what="the worker GREEN on the page")
        return procs[-1]

    yield start
    for proc in procs:
        stop(proc)


def worker_green(admin: httpx.Client) -> bool:
    """The dashboard's monitor sees the worker GREEN (so actions sent to it are not refused)."""
    rows = admin.get("/api/health").json()["services"]
    return next(s for s in rows if s["name"] == "worker")["status"] == "GREEN"


@pytest.fixture
def admin_browser(dashboard):
    """A Chromium context logged in to `dashboard` as the admin, with the script errors and CSP reports it
    collects (a test asserts there are none)."""
    problems: list[str] = []
    with chromium() as browser:
        yield logged_in_context(browser, dashboard.base, problems), problems


@pytest.fixture
def dashboard(redis_url, tmp_path, telegram):
    """A dashboard process with the env-file admin and Telegram at the fake."""
    d = start_dashboard(redis_url, tmp_path, **admin_env(telegram))
    yield d
    stop(d.proc)


@pytest.fixture
def open_dashboard(redis_url, tmp_path):
    """A dashboard process in open local mode (no admin)."""
    d = start_dashboard(redis_url, tmp_path, ADMIN_PASSWORD_HASH="")
    yield d
    stop(d.proc)


@dataclass
class Cluster:
    """The five services' processes by name, the dashboard's URL and the environment they share."""

    procs: dict[str, subprocess.Popen]
    base: str
    env: dict[str, str]


@contextmanager
def _cluster(redis_url: str, tmp_path, **extra: str) -> Iterator[Cluster]:
    """Five services against a fresh simulator, with `extra` in their environment; all stopped after."""
    sim = start_sim(tmp_path=tmp_path)
    env = service_env(
        redis_url,
        DATA_DIR=str(tmp_path / "data"),
        BYBIT_REST_URL=sim.rest,
        BYBIT_WS_PUBLIC_URL=sim.ws_public,
        BYBIT_WS_PRIVATE_URL=sim.ws_private,
        BYBIT_API_KEY=sim.key,
        BYBIT_API_SECRET=sim.secret,
        **extra,
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


@pytest.fixture
def cluster(redis_url, tmp_path, telegram):
    """Five services in SIM mode against a fresh simulator, the admin from the env, the fake Telegram."""
    with _cluster(redis_url, tmp_path, **admin_env(telegram), EXECUTION_MODE="SIM",
                  SYMBOLS="BTCUSDT,ETHUSDT") as running:
        yield running


@pytest.fixture
def open_cluster(redis_url, tmp_path):
    """Five services against a fresh simulator in open local mode (no admin: pages readable without login)."""
    with _cluster(redis_url, tmp_path, ADMIN_PASSWORD_HASH="") as running:
        yield running


def dashboard_up(base: str) -> bool:
    """The dashboard at `base` answers /healthz with 200."""
    try:
        return httpx.get(base + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def asgi_client(tmp_path, host: str, **settings) -> httpx.AsyncClient:
    """The app in this process, as a client at `host` sees it (a real socket here would always be loopback):
    the admin from ADMIN_HASH, `settings` on top, fakeredis (nothing here reaches Redis)."""
    values = {"data_dir": tmp_path, "admin_password_hash": ADMIN_HASH} | settings
    bus = SimpleNamespace(redis=fakeredis.FakeAsyncRedis())
    app = create_app(rt=SimpleNamespace(settings=Settings(_env_file=None, **values), version="test", bus=bus),
                     monitor=None, alerts=None)
    transport = httpx.ASGITransport(app=app, client=(host, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://dash")


def watched_page(browser, problems: list[str]):
    """A new page whose script errors and Content Security Policy reports are collected in `problems`."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if "Content Security" in m.text else None)
    return page


def logged_in_context(browser, base: str, problems: list[str]):
    """A browser context logged in as the admin through the form; page errors and CSP reports collected."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.on("weberror", lambda e: problems.append(str(e.error)))
    context.on("console", lambda m: problems.append(m.text) if "Content Security" in m.text else None)
    page = context.new_page()
    page.goto(base + "/login")
    page.fill('input[name="username"]', ADMIN)
    page.fill('input[name="password"]', PASSWORD)
    with page.expect_navigation():
        page.click('button[type="submit"]')
    return context


def live_page(context, url: str):
    """A page at `url` whose live updates are on: from here on it is never reloaded."""
    from playwright.sync_api import expect

    page = context.new_page()
    page.goto(url)
    expect(page.locator("#live")).to_have_text("live updates: on", timeout=15_000)
    return page
