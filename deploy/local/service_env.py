"""What each program of `make run` is given: its own Redis user (rendered from deploy/redis/users.acl)
and only the secrets it uses.

The passwords of the Redis users are made once into VAR/run/redis/passwords.json (mode 0600) and the
ACL file rendered beside it (mode 0600, holding only their SHA-256). Each service's REDIS_URL carries
its own user; secrets travel in supervisord's `environment=` (its config file is mode 0600), never on
a command line, and supervisord itself starts with every secret variable unset.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path
from urllib.parse import quote

from common.config import SERVICE_SECRETS

ROOT = Path(__file__).resolve().parents[2]
ACL_TEMPLATE = ROOT / "deploy" / "redis" / "users.acl"
REDIS_USERS = ("market", "strategy", "execution", "dashboard", "worker", "scalperctl", "readonly")
SIM_ACCOUNT = frozenset({"BYBIT_API_KEY", "BYBIT_API_SECRET"})  # the simulator's account, no real key


def sandbox_default() -> str:
    """make run only: the default user gets scalperctl's rights (read from the template, so the two never
    differ) without a password, so `scalperctl` works in the local sandbox with no setup (the services
    never use it)."""
    [line] = [x for x in ACL_TEMPLATE.read_text().splitlines() if x.startswith("user scalperctl ")]
    return "user default on nopass " + line.split("#{scalperctl} ", 1)[1]


def write_private(path: Path, text: str) -> None:
    """`text` into `path`, mode 0600 from the start (no moment where another user could read it)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def redis_passwords(run_dir: Path) -> dict[str, str]:
    """Each Redis user's password, made once and kept in RUN_DIR/redis/passwords.json (0600)."""
    path = run_dir / "redis" / "passwords.json"
    known = json.loads(path.read_text()) if path.exists() else {}
    if set(known) != set(REDIS_USERS):
        known = {u: known.get(u) or secrets.token_urlsafe(32) for u in REDIS_USERS}
        write_private(path, json.dumps(known))
    return known


def render_acl(passwords: dict[str, str], *, default: str = "user default off") -> str:
    """deploy/redis/users.acl with each {user} replaced by the SHA-256 of its password."""
    text = "\n".join(line for line in ACL_TEMPLATE.read_text().splitlines() if not line.startswith("#"))
    hashes = {u: hashlib.sha256(p.encode()).hexdigest() for u, p in passwords.items()}
    return text.format(default=default, **hashes).strip() + "\n"


def user_url(*, user: str, password: str, port: int) -> str:
    """The REDIS_URL of one Redis user on make run's private Redis."""
    return f"redis://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{port}/0"


def program_env(service: str, values: dict[str, str], *, extra: frozenset[str] = frozenset()) -> str:
    """supervisord's `environment=` value giving `service` the secrets it uses (of `values`), and `extra`."""
    given = {k: v for k, v in values.items() if k in SERVICE_SECRETS[service] | extra and v}
    return ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(given.items()))


def _escape(value: str) -> str:
    """A value inside supervisord's double quotes: % doubled (its interpolation), quotes escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
