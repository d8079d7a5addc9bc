"""What `make run` starts and exports, decided from the settings the services will read.

deploy/local/run.sh evals the shell lines this prints. The settings come from `common.config.load`,
so the env file (`.env`, or SCALPER_ENV_FILE) is parsed exactly as the services parse it and real
environment variables win over it the same way. Sourcing the file in the shell would not do: it
expands `$` (a bcrypt ADMIN_PASSWORD_HASH turns into garbage) and the mangled value, exported, would
then win over the file. Only what make run itself adds is exported; everything else stays in the file.

Secrets are never exported to every program: each gets only those it uses (PROGRAM_ENV_<program>, for
supervisord's `environment=`), and make run's private Redis gets the ACL users of deploy/redis/users.acl,
each service connecting as its own (see service_env.py).

Usage: run_plan.py VAR_DIR   (SCALPER_REDIS_PORT and SCALPER_SIM_PORT are read from the environment)
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from common.bybit.sim_account import credentials
from common.bybit.urls import PRIVATE_PATH, PUBLIC_LINEAR_PATH, SIM_PORT
from common.config import SECRET_KEYS, SERVICE_SECRETS, ExecutionMode, Settings, load_or_exit
from service_env import (
    SIM_ACCOUNT,
    program_env,
    redis_passwords,
    render_acl,
    sandbox_default,
    user_url,
    write_private,
)

DEFAULT_REDIS_PORT = urlsplit(Settings.model_fields["redis_url"].default.get_secret_value()).port
SIM_SYMBOLS = "BTCUSDT,ETHUSDT"  # the simulator's markets when SYMBOLS is empty
_WS_SCHEME = {"http": "ws", "https": "wss"}


def is_own_redis(redis_url: str, port: int) -> bool:
    """REDIS_URL names the loopback address make run's private Redis listens on (no password)."""
    parts = urlsplit(redis_url)
    return (parts.scheme == "redis" and parts.hostname in ("127.0.0.1", "localhost")
            and parts.port == port and parts.password is None)


def ws_urls(rest: str) -> tuple[str, str]:
    """The simulator's WebSocket URLs next to its REST URL: it serves all three on one port."""
    parts = urlsplit(rest.rstrip("/"))
    base = urlunsplit((_WS_SCHEME.get(parts.scheme, parts.scheme), parts.netloc, parts.path, "", ""))
    return base + PUBLIC_LINEAR_PATH, base + PRIVATE_PATH


def plan(settings: Settings, var_dir: str, env: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(shell variables for run.sh, variables to export to every program: no secret among them)."""
    given = settings.model_fields_set
    redis_port = int(env.get("SCALPER_REDIS_PORT") or DEFAULT_REDIS_PORT)
    sim_port = int(env.get("SCALPER_SIM_PORT") or SIM_PORT)
    shell = {"REDIS_PORT": str(redis_port), "SIM_PORT": str(sim_port),
             "SIM_SYMBOLS": ",".join(settings.symbol_list) or SIM_SYMBOLS,
             "DASHBOARD_URL": f"http://{settings.web_host}:{settings.web_port}"}
    export: dict[str, str] = {}
    if "data_dir" not in given:
        export["DATA_DIR"] = var_dir
    own_redis = "redis_url" not in given or is_own_redis(settings.redis_url.get_secret_value(), redis_port)
    shell["START_REDIS"] = str(own_redis).lower()
    secret = {k: getattr(settings, k.lower()).get_secret_value() for k in SECRET_KEYS}
    start_sim = settings.execution_mode is ExecutionMode.SIM and not settings.bybit_rest_url
    shell["START_SIM"] = str(start_sim).lower()
    if start_sim:
        account = credentials(settings)
        rest = f"http://127.0.0.1:{sim_port}"
        secret.update(BYBIT_API_KEY=account.key, BYBIT_API_SECRET=account.secret)
        export["BYBIT_REST_URL"] = rest
        export["BYBIT_WS_PUBLIC_URL"], export["BYBIT_WS_PRIVATE_URL"] = ws_urls(rest)
    elif settings.execution_mode is ExecutionMode.SIM:  # a simulator running elsewhere
        public, private = ws_urls(settings.bybit_rest_url)
        if not settings.bybit_ws_public_url:
            export["BYBIT_WS_PUBLIC_URL"] = public
        if not settings.bybit_ws_private_url:
            export["BYBIT_WS_PRIVATE_URL"] = private
    shell["SECRET_VARS"] = " ".join(sorted(SECRET_KEYS))
    shell.update(_programs(settings, var_dir=var_dir, secret=secret,
                           redis_port=redis_port if own_redis else 0))
    return shell, export


def _programs(settings: Settings, *, var_dir: str, secret: dict[str, str], redis_port: int) -> dict[str, str]:
    """PROGRAM_ENV_<program> for each program (its secrets, its own Redis user on make run's Redis) and
    REDIS_ACLFILE, the rendered ACL file of make run's Redis ("" when REDIS_URL names another Redis)."""
    out = {"REDIS_ACLFILE": ""}
    passwords = {}
    if redis_port:
        run_dir = Path(var_dir) / "run"
        passwords = redis_passwords(run_dir)
        out["REDIS_ACLFILE"] = str(run_dir / "redis" / "users.acl")
        write_private(Path(out["REDIS_ACLFILE"]), render_acl(passwords, default=sandbox_default()))
    for program in SERVICE_SECRETS:
        values = dict(secret)
        if program in passwords:
            values["REDIS_URL"] = user_url(user=program, password=passwords[program], port=redis_port)
        # in SIM the dashboard's scenarios sign their simulator fault switch with the simulator's account
        sim_dashboard = program == "dashboard" and settings.execution_mode is ExecutionMode.SIM
        out[f"PROGRAM_ENV_{program.replace('-', '_')}"] = program_env(
            program, values, extra=SIM_ACCOUNT if sim_dashboard else frozenset())
    return out


def main() -> None:
    settings = load_or_exit()
    shell, export = plan(settings, sys.argv[1], dict(os.environ))
    for name, value in shell.items():
        print(f"{name}={shlex.quote(value)}")
    for name, value in export.items():
        print(f"export {name}={shlex.quote(value)}")


if __name__ == "__main__":
    main()
