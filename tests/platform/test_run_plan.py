"""What `make run` starts and exports, as run.sh reads it from deploy/local/run_plan.py: decided from
the env file the services read, with the environment winning, and nothing of the file re-exported."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

from common.bybit.sim_account import SIM_API_KEY, SIM_API_SECRET

from tests.dashboard.conftest import ADMIN_HASH
from tests.support import ROOT, VENV_BIN

# unit: run_plan.py is a pure script (environment and env file in, shell lines out); nothing is started.
pytestmark = pytest.mark.unit

OWN_PORT = "6400"  # SCALPER_REDIS_PORT in these runs


def plan(env_file: Path, **env: str) -> dict[str, str]:
    """Run the script as run.sh does, make run's directory beside the env file; its lines as a dict (exports
    prefixed with `export `)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("BYBIT_", "REDIS_", "EXECUTION_"))}
    base.update({"SCALPER_ENV_FILE": str(env_file), "SCALPER_REDIS_PORT": OWN_PORT, **env})
    var = str(env_file.parent / "var")
    out = subprocess.run([str(VENV_BIN / "python"), str(ROOT / "deploy/local/run_plan.py"), var],
                         env=base, capture_output=True, text=True, timeout=60, check=True).stdout
    lines = (line.partition("=") for line in out.splitlines())
    return {name: shlex.split(value)[0] for name, _, value in lines}


def test_a_copy_of_env_example_starts_the_private_redis_and_simulator(tmp_path):
    """.env.example says "Copy to .env (make run)": its REDIS_URL is make run's own Redis."""
    env_file = tmp_path / ".env"
    env_file.write_text((ROOT / ".env.example").read_text())
    got = plan(env_file, SCALPER_REDIS_PORT="6391")
    assert (got["START_REDIS"], got["START_SIM"]) == ("true", "true")
    # the simulator's account goes to the simulator and execution (and the SIM dashboard's scenarios) only
    sim_account = f'BYBIT_API_KEY="{SIM_API_KEY}",BYBIT_API_SECRET="{SIM_API_SECRET}"'
    assert got["PROGRAM_ENV_exchange_sim"] == sim_account
    assert sim_account in got["PROGRAM_ENV_execution"] and "BYBIT" not in got["PROGRAM_ENV_market"]
    assert not [k for k in got if k.startswith("export BYBIT_API")]  # no secret exported to all
    assert got["export BYBIT_WS_PRIVATE_URL"] == "ws://127.0.0.1:8090/v5/private"
    assert "export REDIS_URL" not in got and "export DATA_DIR" not in got  # the file's own values stand
    # each service its own Redis user, from the ACL file rendered for make run's Redis (mode 0600)
    assert got["PROGRAM_ENV_market"].startswith('REDIS_URL="redis://market:')
    acl = Path(got["REDIS_ACLFILE"])
    assert acl.stat().st_mode & 0o777 == 0o600 and "user market on #" in acl.read_text()


def test_a_secret_in_the_environment_reaches_only_the_service_that_uses_it(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("")
    got = plan(env_file, TELEGRAM_BOT_TOKEN="123:SECRETtoken")
    assert "SECRETtoken" in got["PROGRAM_ENV_dashboard"]
    assert not [k for k, v in got.items() if "SECRETtoken" in v and k != "PROGRAM_ENV_dashboard"]
    assert "TELEGRAM_BOT_TOKEN" in got["SECRET_VARS"].split()  # unset in supervisord's own environment


def test_the_env_file_names_an_external_redis_and_simulator(tmp_path):
    env_file = tmp_path / "scalper.env"
    env_file.write_text("REDIS_URL=redis://10.0.0.7:6379/2\nBYBIT_REST_URL=https://sim.lan:9000/\n"
                        f"ADMIN_PASSWORD_HASH={ADMIN_HASH}\nSYMBOLS=solusdt, btcusdt\n")
    got = plan(env_file)
    assert (got["START_REDIS"], got["START_SIM"]) == ("false", "false")
    # only REST given: the simulator's WebSockets are on the same port
    assert got["export BYBIT_WS_PUBLIC_URL"] == "wss://sim.lan:9000/v5/public/linear"
    assert got["export BYBIT_WS_PRIVATE_URL"] == "wss://sim.lan:9000/v5/private"
    assert got["export DATA_DIR"] == str(tmp_path / "var")
    # the file's values (a bcrypt hash full of `$`) stay in the file, read by each service itself
    assert not {"export REDIS_URL", "export BYBIT_REST_URL", "export ADMIN_PASSWORD_HASH"} & set(got)


def test_the_environment_wins_over_the_file(tmp_path):
    env_file = tmp_path / "scalper.env"
    env_file.write_text("REDIS_URL=redis://10.0.0.7:6379/2\nEXECUTION_MODE=SIM\n")
    got = plan(env_file, REDIS_URL=f"redis://127.0.0.1:{OWN_PORT}/0", EXECUTION_MODE="DRY")
    assert (got["START_REDIS"], got["START_SIM"]) == ("true", "false")
    assert not [k for k in got if "BYBIT_" in k]


def test_a_bad_value_in_the_file_stops_make_run_with_78_naming_the_key(tmp_path):
    env_file = tmp_path / "scalper.env"
    env_file.write_text("EXECUTION_MODE=PAPER\n")
    run = subprocess.run([str(VENV_BIN / "python"), str(ROOT / "deploy/local/run_plan.py"), "/srv/var"],
                         env=dict(os.environ, SCALPER_ENV_FILE=str(env_file)), capture_output=True, text=True,
                         timeout=60, check=False)
    assert run.returncode == 78 and "EXECUTION_MODE" in run.stderr
