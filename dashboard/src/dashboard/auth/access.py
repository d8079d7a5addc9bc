"""Who may reach the dashboard: loopback, the WEB_ALLOW_NETWORKS allow-list, and open local mode.

Without ADMIN_PASSWORD_HASH the dashboard is in open local mode: everything readable (as LOCAL_USER),
nothing actionable, and only on a loopback address.
"""

from __future__ import annotations

import ipaddress
import sys

from common.config import EX_CONFIG, Settings

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


def check_exposure(settings: Settings) -> None:
    """Open local mode only on a loopback address: exit 78 naming ADMIN_PASSWORD_HASH otherwise."""
    if open_mode(settings) and not is_loopback(settings.web_host):
        print(
            f"config error: ADMIN_PASSWORD_HASH: required when WEB_HOST={settings.web_host} is not loopback "
            "(make one with `scalperctl hash-password`)",
            file=sys.stderr,
            flush=True,
        )
        raise SystemExit(EX_CONFIG)


def allowed_networks(settings: Settings) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """WEB_ALLOW_NETWORKS parsed; empty means every client."""
    return [
        ipaddress.ip_network(n.strip(), strict=False)
        for n in settings.web_allow_networks.split(",")
        if n.strip()
    ]


def client_allowed(host: str | None, networks: list) -> bool:
    """The client's address is in one of `networks` (any address when there are none)."""
    if not networks:
        return True
    try:
        addr = ipaddress.ip_address(host or "")
    except ValueError:
        return False
    return any(addr in n for n in networks)
