"""Sessions: a signed cookie (itsdangerous) holding the user name and that session's CSRF token; the role
is looked up on every request, so a removed user loses access at once. The login form has a CSRF token of
its own, its signed twin in a cookie."""

from __future__ import annotations

import secrets
from pathlib import Path

from common.config import Settings
from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "scalper_session"
LOGIN_CSRF_COOKIE = "scalper_login_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"
SESSION_KEY_FILE = "session.key"


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


class Sessions:
    """Signs and reads session cookies; a cookie older than SESSION_TTL_S is refused."""

    def __init__(self, *, secret: str, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._session = URLSafeTimedSerializer(secret, salt="scalper-session")
        self._login = URLSafeTimedSerializer(secret, salt="scalper-login-csrf")

    def issue(self, name: str) -> str:
        """A new session cookie for `name`, with a fresh CSRF token."""
        return self._session.dumps({"u": name, "csrf": secrets.token_urlsafe(24)})

    def read(self, cookie: str | None) -> dict | None:
        """{"u": name, "csrf": token} of a valid, unexpired cookie, else None."""
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
        """The form's token matches the one signed into its cookie, which has not expired."""
        try:
            expected = self._login.loads(cookie or "", max_age=self.ttl_s)
        except BadSignature:
            return False
        return bool(token) and secrets.compare_digest(str(expected), token)
