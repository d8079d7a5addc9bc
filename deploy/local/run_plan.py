"""What `make run` starts and exports, decided from the settings the services will read.

deploy/local/run.sh evals the shell lines this prints. The settings come from `common.config.load`,
so the env file (`.env`, or SCALPER_ENV_FILE) is parsed exactly as the services parse it and real
environment variables win over it the same way. Sourcing the file in the shell would not do: it
expands `$` (a bcrypt ADMIN_PASSWORD_HASH turns into garbage) and the mangled value, exported, would
then win over the file. Only what make run itself adds is exported; everything else stays in the file.

Usage: run_plan.py VAR_DIR   (SCALPER_REDIS_PORT and SCALPER_SIM_PORT are read from the environment)
"""

from __future__ import annotations

import os
import shlex
import sys
from urllib.parse import urlsplit, urlunsplit

from common.bybit.sim_account import credentials
from common.bybit.urls import PRIVATE_PATH, PUBLIC_LINEAR_PATH, SIM_PORT
from common.config import ExecutionMode, Settings, load_or_exit

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
    """(shell variables for run.sh, variables to export to every program)."""
    given = settings.model_fields_set
    redis_port = int(env.get("SCALPER_REDIS_PORT") or DEFAULT_REDIS_PORT)
    sim_port = int(env.get("SCALPER_SIM_PORT") or SIM_PORT)
    shell = {"REDIS_PORT": str(redis_port), "SIM_PORT": str(sim_port),
             "SIM_SYMBOLS": ",".join(settings.symbol_list) or SIM_SYMBOLS,
             "DASHBOARD_URL": f"http://{settings.web_host}:{settings.web_port}"}
    export: dict[str, str] = {}
    if "data_dir" not in given:
        export["DATA_DIR"] = var_dir
    if "redis_url" not in given:
        export["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
    shell["START_REDIS"] = str("redis_url" not in given
                               or is_own_redis(settings.redis_url.get_secret_value(), redis_port)).lower()
    start_sim = settings.execution_mode is ExecutionMode.SIM and not settings.bybit_rest_url
    shell["START_SIM"] = str(start_sim).lower()
    if start_sim:
        account = credentials(settings)
        rest = f"http://127.0.0.1:{sim_port}"
        export.update(BYBIT_API_KEY=account.key, BYBIT_API_SECRET=account.secret, BYBIT_REST_URL=rest)
        export["BYBIT_WS_PUBLIC_URL"], export["BYBIT_WS_PRIVATE_URL"] = ws_urls(rest)
    elif settings.execution_mode is ExecutionMode.SIM:  # a simulator running elsewhere
        public, private = ws_urls(settings.bybit_rest_url)
        if not settings.bybit_ws_public_url:
            export["BYBIT_WS_PUBLIC_URL"] = public
        if not settings.bybit_ws_private_url:
            export["BYBIT_WS_PRIVATE_URL"] = private
    return shell, export


def main() -> None:
    settings = load_or_exit()
    shell, export = plan(settings, sys.argv[1], dict(os.environ))
    for name, value in shell.items():
        print(f"{name}={shlex.quote(value)}")
    for name, value in export.items():
        print(f"export {name}={shlex.quote(value)}")


if __name__ == "__main__":
    main()
