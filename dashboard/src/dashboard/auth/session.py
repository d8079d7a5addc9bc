"""The session cookie's name and the login form's CSRF pair (a token in the form, its signed twin in a
cookie), signed with SESSION_SECRET or a key generated once into DATA_DIR/session.key. The sessions
themselves live in Redis (see session_store)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from common.config import ConfigError, Settings
from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "scalper_session"
LOGIN_CSRF_COOKIE = "scalper_login_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"
SESSION_KEY_FILE = "session.key"
MIN_KEY_BYTES = 32


def session_secret(settings: Settings) -> str:
    """SESSION_SECRET, else the key in DATA_DIR/session.key, made once (mode 0600, written to a temporary
    file, fsynced, renamed into place, so a crash never leaves a partial key). ConfigError naming the file
    when it holds fewer than MIN_KEY_BYTES bytes (SESSION_SECRET's length is checked with the settings)."""
    if settings.session_secret.get_secret_value():
        return settings.session_secret.get_secret_value()
    path = Path(settings.data_dir) / SESSION_KEY_FILE
    if not path.exists():
        _write_atomically(path, secrets.token_urlsafe(48))
    key = path.read_text().strip()
    if len(key.encode()) < MIN_KEY_BYTES:
        raise ConfigError(str(path), f"the session key is empty or shorter than {MIN_KEY_BYTES} bytes: "
                          "delete the file to have a new one made, or set SESSION_SECRET")
    return key


def _write_atomically(path: Path, text: str) -> None:
    """`text` into `path` (mode 0600): a temporary file beside it, fsync, rename, fsync the directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class LoginTokens:
    """Signs and checks the login form's CSRF pair; a pair older than SESSION_TTL_S is refused."""

    def __init__(self, *, secret: str, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._login = URLSafeTimedSerializer(secret, salt="scalper-login-csrf")

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
