"""scalperctl's own commands (scalperctl/main.py): config check, status and the control commands, as an
operator runs them: the real console script against a real Redis."""

from __future__ import annotations

import json
import re

import pytest

from common import constants as c
from common.schemas import ControlCommand, decode
from tests.support import ROOT, scalperctl, service_env

pytestmark = pytest.mark.service

# bcrypt of "secret" (cost 4): LIVE needs an admin, and the hash is a secret too.
BCRYPT_OF_SECRET = "$2b$04$Vp.RXlu/9PGC7kMudJGgS.f.XM7uj6osCSuGAPNIRujmDW9tkX65C"


def test_config_check_accepts_the_shipped_example(redis_url):
    r = scalperctl("config", "check", "--env-file", str(ROOT / ".env.example"), env=service_env(redis_url))
    assert r.returncode == 0, r.stderr
    view = json.loads(r.stdout)["settings"]
    assert view["EXECUTION_MODE"] == "SIM" and view["SERVICE_CLUSTER_ID"] == "scalper"


def test_config_check_names_the_bad_key_and_exits_78(tmp_path, redis_url):
    bad = tmp_path / "bad.env"
    bad.write_text("EXECUTION_MODE=LIVE\nBYBIT_API_KEY=k\n")
    r = scalperctl("config", "check", "--env-file", str(bad), env=service_env(redis_url))
    assert r.returncode == 78
    assert r.stderr.strip() == "config error: BYBIT_API_SECRET: required when EXECUTION_MODE=LIVE"

    bad.write_text("WEB_PORTT=8080\n")
    r = scalperctl("config", "check", "--env-file", str(bad), env=service_env(redis_url))
    assert r.returncode == 78 and "WEB_PORTT: unknown key" in r.stderr


def test_config_check_of_one_service_reads_its_own_file_after_the_shared_one(tmp_path, redis_url):
    """What the auto-update checks before a switch: each service's settings as systemd gives them, the
    shared file then the service's own (which wins), only that service's secrets required."""
    shared, own = tmp_path / "scalper.env", tmp_path / "execution.env"
    shared.write_text("EXECUTION_MODE=LIVE\nWEB_PORT=8080\n")
    own.write_text("BYBIT_API_KEY=k\nBYBIT_API_SECRET=s\nREDIS_URL=redis://execution:pw@127.0.0.1:6379/0\n")
    env = service_env(redis_url)

    def check(*args: str):
        return scalperctl("config", "check", *args, env=env)

    market = check("--service", "market", "--env-file", str(shared), "--env-file", str(tmp_path / "market.env"))
    assert market.returncode == 78 and "market.env does not exist" in market.stderr
    (tmp_path / "market.env").write_text("REDIS_URL=redis://market:pw@127.0.0.1:6379/0\n")
    market = check("--service", "market", "--env-file", str(shared), "--env-file", str(tmp_path / "market.env"))
    assert market.returncode == 0, market.stderr  # LIVE without Bybit keys: market never gets them
    r = check("--service", "execution", "--env-file", str(shared), "--env-file", str(own))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["settings"]["REDIS_URL"] == "redis://execution:********@127.0.0.1:6379/0"
    r = check("--service", "execution", "--env-file", str(shared), "--env-file", str(tmp_path / "market.env"))
    assert r.returncode == 78 and "BYBIT_API_KEY: required when EXECUTION_MODE=LIVE" in r.stderr
    own.write_text("BYBIT_API_KEYY=k\n")  # a typo systemd's environment would silently ignore
    r = check("--service", "execution", "--env-file", str(shared), "--env-file", str(own))
    assert r.returncode == 78 and "BYBIT_API_KEYY: unknown key (typo?)" in r.stderr


def test_config_check_never_prints_secrets(tmp_path, redis_url):
    env_file = tmp_path / "live.env"
    env_file.write_text("EXECUTION_MODE=LIVE\nBYBIT_API_KEY=key-VISIBLE-NOT\nBYBIT_API_SECRET=sec-HIDDEN\n"
                        "REDIS_URL=redis://:pw-HIDDEN@127.0.0.1:6379/0\nTELEGRAM_BOT_TOKEN=tok-HIDDEN\n"
                        f"ADMIN_PASSWORD_HASH={BCRYPT_OF_SECRET}\n")
    r = scalperctl("config", "check", "--env-file", str(env_file), env=service_env(redis_url))
    assert r.returncode == 0, r.stderr
    assert "HIDDEN" not in r.stdout + r.stderr and "VISIBLE" not in r.stdout
    assert BCRYPT_OF_SECRET not in r.stdout
    assert json.loads(r.stdout)["settings"]["BYBIT_API_SECRET"] == "********"


def test_status_exits_1_when_services_are_down(redis_url):
    r = scalperctl("status", "--json", env=service_env(redis_url))
    assert r.returncode == 1
    assert {s["status"] for s in json.loads(r.stdout)["services"]} == {"RED"}


def test_safe_mode_publishes_a_control_command_and_sets_the_flag(redis_server, redis_url):
    r = scalperctl("safe-mode", "on", env=service_env(redis_url))
    assert r.returncode == 0, r.stderr
    client = redis_server.client()
    assert client.get(c.SAFE_MODE_KEY) == b"1"
    (_, fields), = client.xrange(c.SYS_CONTROL)
    cmd = decode(fields[c.PAYLOAD_FIELD])
    assert isinstance(cmd, ControlCommand) and cmd.command.value == "safe_mode_on" and cmd.target == "*"


def test_the_help_says_what_every_command_reaches():
    """`scalperctl --help` lists each command under Redis, local files or HTTP: a new one must say which."""
    usage, _, rest = scalperctl("--help", env={}).stdout.partition("\n\n")
    description = rest.partition("positional arguments:")[0]
    commands = set(re.search(r"\{([\w,-]+)\}", usage)[1].split(","))
    rows = (line.strip().split("  ")[0] for line in description.splitlines() if line.startswith("  "))
    listed = {name.split()[0] for row in rows for name in row.split(",") if name.strip()}
    assert commands - listed == set()
