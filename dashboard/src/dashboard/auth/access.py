"""Who may reach the dashboard: loopback (never through a proxy), the WEB_ALLOW_NETWORKS allow-list, the
WEB_ALLOWED_HOSTS Host names, and open local mode.

Without ADMIN_PASSWORD_HASH the dashboard is in open local mode: everything readable (as LOCAL_USER),
nothing actionable, and only on a loopback address (the one WEB_HOST names, or the socket systemd hands
over).
"""

from __future__ import annotations

import ipaddress
import sys

from common.config import EX_CONFIG, Settings
from starlette.requests import HTTPConnection

from dashboard.auth.proxy import in_networks, is_proxied, parse_networks
from dashboard.auth.users import Role, User

LOCAL_USER = User("local", Role.VIEWER)  # who reads in open local mode


def open_mode(settings: Settings) -> bool:
    """No admin configured: open local mode."""
    return not settings.admin_password_hash.get_secret_value()


def is_loopback(host: str) -> bool:
    """`host` is a loopback address (or "localhost")."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def direct_loopback(request: HTTPConnection) -> bool:
    """The client is this host itself, talking to us directly (a proxied request never is)."""
    return request.client is not None and is_loopback(request.client.host) and not is_proxied(request.scope)


def check_exposure(settings: Settings, *, listen_host: str | None = None) -> None:
    """Open local mode only on a loopback address (`listen_host`, the socket systemd handed over, else
    WEB_HOST): exit 78 naming ADMIN_PASSWORD_HASH otherwise."""
    host = listen_host if listen_host is not None else settings.web_host
    if open_mode(settings) and not is_loopback(host):
        print(
            f"config error: ADMIN_PASSWORD_HASH: required when the dashboard listens on {host}, not loopback "
            "(make one with `scalperctl hash-password`)",
            file=sys.stderr,
            flush=True,
        )
        raise SystemExit(EX_CONFIG)


def allowed_networks(settings: Settings) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """WEB_ALLOW_NETWORKS parsed; empty means every client."""
    return parse_networks(settings.web_allow_networks)


def client_allowed(host: str | None, networks: list) -> bool:
    """The client's address is in one of `networks` (any address when there are none)."""
    return not networks or in_networks(host, networks)


def allowed_hosts(settings: Settings) -> frozenset[str]:
    """WEB_ALLOWED_HOSTS, lower-cased; empty means any Host."""
    return frozenset(h.strip().lower() for h in settings.web_allowed_hosts.split(",") if h.strip())


def host_allowed(request: HTTPConnection, hosts: frozenset[str]) -> bool:
    """The Host header names this dashboard (against DNS rebinding): one of `hosts` with or without its
    port, or a loopback name asked for directly from this host."""
    host = request.headers.get("host", "").lower()
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if not hosts or host in hosts or name in hosts:
        return True
    return direct_loopback(request) and is_loopback(name.strip("[]"))
