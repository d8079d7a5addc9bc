"""Sessions, CSRF and the client allow-list (login throttling is dashboard.throttle).

A session is a signed, timestamped cookie (itsdangerous) holding the user name and that session's
CSRF token; the role is looked up on every request, so a removed user loses access at once. Without
ADMIN_PASSWORD_HASH the dashboard is in open local mode: everything readable, nothing actionable.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import sys
from pathlib import Path

from common.config import EX_CONFIG, Settings
from itsdangerous import BadSignature, URLSafeTimedSerializer

from dashboard.users import Role, User

log = logging.getLogger(__name__)

SESSION_COOKIE = "scalper_session"
LOGIN_CSRF_COOKIE = "scalper_login_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"
SESSION_KEY_FILE = "session.key"
LOCAL_USER = User("local", Role.VIEWER)  # who reads in open local mode


def open_mode(settings: Settings) -> bool:
    return not settings.admin_password_hash.get_secret_value()


def is_loopback(host: str) -> bool:
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


def session_secret(settings: Settings) -> str:
    """SESSION_SECRET, else one generated once and kept (mode 600) under DATA_DIR."""
    if settings.session_secret.get_secret_value():
        return settings.session_secret.get_secret_value()
    path = Path(settings.data_dir) / SESSION_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def allowed_networks(settings: Settings) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [
        ipaddress.ip_network(n.strip(), strict=False)
        for n in settings.web_allow_networks.split(",")
        if n.strip()
    ]


def client_allowed(host: str | None, networks: list) -> bool:
    if not networks:
        return True
    try:
        addr = ipaddress.ip_address(host or "")
    except ValueError:
        return False
    return any(addr in n for n in networks)


class Sessions:
    """Signs and reads session cookies; a cookie older than SESSION_TTL_S is refused."""

    def __init__(self, *, secret: str, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._session = URLSafeTimedSerializer(secret, salt="scalper-session")
        self._login = URLSafeTimedSerializer(secret, salt="scalper-login-csrf")

    def issue(self, name: str) -> str:
        return self._session.dumps({"u": name, "csrf": secrets.token_urlsafe(24)})

    def read(self, cookie: str | None) -> dict | None:
        if not cookie:
            return None
        try:
            data = self._session.loads(cookie, max_age=self.ttl_s)
        except BadSignature:  # includes SignatureExpired
            return None
        return data if isinstance(data, dict) and "u" in data and "csrf" in data else None

    def login_token(self) -> tuple[str, str]:
        """(token for the form, signed cookie holding it): the login form's CSRF pair."""
        token = secrets.token_urlsafe(24)
        return token, self._login.dumps(token)

    def login_token_ok(self, cookie: str | None, token: str) -> bool:
        try:
            expected = self._login.loads(cookie or "", max_age=self.ttl_s)
        except BadSignature:
            return False
        return bool(token) and secrets.compare_digest(str(expected), token)
