"""dashboard.auth.proxy (with access and the app's guard): behind a TLS proxy only WEB_TRUSTED_PROXIES are
believed; a proxied request is never loopback (allow-list, /metrics, throttling); Secure cookies and HSTS
when the original scheme is https; a Host allow-list; request bodies capped before parsing; open local mode
refuses a non-loopback socket handed over by systemd."""

from __future__ import annotations

import os
import socket
import subprocess

import httpx
import pytest

from tests.dashboard.conftest import ADMIN, ADMIN_HASH, CSRF_INPUT, PASSWORD, admin_env, start_dashboard, stop
from tests.support import VENV_BIN, service_env

pytestmark = pytest.mark.service
CLIENT = "203.0.113.9"


def via_proxy(client: str = CLIENT, proto: str = "https", spoofed: str = "") -> dict[str, str]:
    """The headers a TLS proxy adds for `client` (after whatever the client itself sent as `spoofed`)."""
    chain = f"{spoofed}, {client}" if spoofed else client
    return {"X-Forwarded-For": chain, "X-Forwarded-Proto": proto}


def login(base: str, headers: dict[str, str], password: str = PASSWORD) -> httpx.Response:
    """Through the form; the form's cookie sent back by hand (a Secure one is not sent over http)."""
    with httpx.Client(base_url=base, headers=headers, timeout=10) as c:
        form = c.get("/login")
        token = CSRF_INPUT.search(form.text).group(1)
        cookie = form.headers["set-cookie"].split(";")[0]
        return c.post("/login", data={"username": ADMIN, "password": password, "csrf": token},
                      headers={"Cookie": cookie})


@pytest.fixture
def proxied(redis_url, tmp_path, telegram):
    """A dashboard behind a proxy on 127.0.0.1 that it trusts; clients only from 198.51.100.0/24 (and
    loopback); the Host it answers to: dash.example."""
    d = start_dashboard(redis_url, tmp_path, **admin_env(telegram), WEB_TRUSTED_PROXIES="127.0.0.1",
                        WEB_ALLOW_NETWORKS="198.51.100.0/24", WEB_ALLOWED_HOSTS="dash.example")
    yield d
    stop(d.proc)


def test_an_untrusted_proxy_is_not_believed_and_its_requests_are_not_loopback(redis_url, tmp_path, telegram):
    d = start_dashboard(redis_url, tmp_path, **admin_env(telegram), WEB_ALLOW_NETWORKS="198.51.100.0/24")
    try:
        assert httpx.get(d.base + "/login").status_code == 200  # loopback itself, directly
        # a proxy on this host nobody declared: its clients are neither loopback nor the client they claim
        assert httpx.get(d.base + "/login", headers=via_proxy("198.51.100.7")).status_code == 403
        assert httpx.get(d.base + "/metrics", headers=via_proxy("127.0.0.1")).status_code == 403
    finally:
        stop(d.proc)


def test_a_trusted_proxys_client_is_the_one_it_names_with_secure_cookies_and_hsts(proxied, tmp_path):
    headers = {"Host": "dash.example"}
    assert httpx.get(proxied.base + "/login", headers=headers | via_proxy()).status_code == 403  # not allowed
    r = login(proxied.base, headers | via_proxy("198.51.100.7", spoofed="127.0.0.1"))
    assert r.status_code == 303, r.text
    assert "Secure" in r.headers["set-cookie"]
    assert r.headers["strict-transport-security"].startswith("max-age=")
    admin = httpx.Client(base_url=proxied.base, timeout=10, headers=headers | via_proxy("198.51.100.7") | {
        "Cookie": r.headers["set-cookie"].split(";")[0]})
    [session] = admin.get("/api/sessions").json()["sessions"]
    assert session["client"] == "198.51.100.7"  # the client the proxy saw, not one it was told
    assert admin.get("/metrics").status_code == 401  # never loopback through the proxy
    plain = login(proxied.base, headers | via_proxy("198.51.100.8", proto="http"))
    assert "Secure" not in plain.headers["set-cookie"] and "strict-transport-security" not in plain.headers


def test_the_throttle_counts_the_proxys_clients_apart(proxied):
    headers = {"Host": "dash.example"}
    for i in range(20):
        r = login(proxied.base, headers | via_proxy("198.51.100.66"), password=f"wrong{i}")
        assert r.status_code == 401
    assert login(proxied.base, headers | via_proxy("198.51.100.66")).status_code == 429
    assert login(proxied.base, headers | via_proxy("198.51.100.67")).status_code == 303  # another client


def test_only_the_allowed_host_names_are_served(proxied):
    assert httpx.get(proxied.base + "/login", headers={"Host": "rebound.attacker.example"}).status_code == 400
    assert httpx.get(proxied.base + "/login", headers={"Host": "dash.example"}).status_code == 200
    assert httpx.get(proxied.base + "/healthz").status_code in (200, 503)  # 127.0.0.1:port, from this host


def test_request_bodies_are_capped_before_parsing(proxied):
    big = b"username=" + b"a" * (300 * 1024)
    r = httpx.post(proxied.base + "/login", content=big, headers={
        "Host": "dash.example", "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413

    def chunks():
        for _ in range(40):
            yield b"a" * 8192

    r = httpx.post(proxied.base + "/login", content=chunks(), headers={
        "Host": "dash.example", "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code in (400, 413)  # cut off as it arrives, never parsed whole


def test_open_mode_refuses_a_non_loopback_socket_from_systemd(redis_url):
    sock = socket.socket()
    sock.bind(("0.0.0.0", 0))
    sock.listen()
    env = service_env(redis_url, ADMIN_PASSWORD_HASH="", LISTEN_FDS="1")
    try:
        r = subprocess.run(["sh", "-c", f'LISTEN_PID=$$ exec "{VENV_BIN}/scalper-dashboard"'], env=env,
                           capture_output=True, text=True, timeout=60, check=False,
                           pass_fds=(3,), preexec_fn=lambda: os.dup2(sock.fileno(), 3))
    finally:
        sock.close()
    assert r.returncode == 78 and "ADMIN_PASSWORD_HASH" in r.stderr and "0.0.0.0" in r.stderr
