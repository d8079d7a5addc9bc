"""Config rules: a bad or missing value names its key (exit 78 from a real service); secrets stay hidden."""

from __future__ import annotations

import subprocess

import pytest

from common import config
from common.config import ConfigError, ExecutionMode, Settings
from tests.support import VENV_BIN, service_env

pytestmark = pytest.mark.service

SECRET = "s3cr3t-value-that-must-not-leak"
BCRYPT = "$2b$12$" + "a" * 53


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """Only the env file of each test counts, not variables of the machine running the tests."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def load(tmp_path, **values: str) -> Settings:
    path = tmp_path / "scalper.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return config.load(path)


def test_defaults_are_a_safe_sim_setup(tmp_path):
    s = load(tmp_path)
    assert s.execution_mode is ExecutionMode.SIM and s.web_host == "127.0.0.1"


@pytest.mark.parametrize(("values", "key", "problem"), [
    ({"EXECUTION_MODE": "LIVE"}, "BYBIT_API_KEY", "required when EXECUTION_MODE=LIVE"),
    ({"EXECUTION_MODE": "LIVE", "BYBIT_API_KEY": "k"}, "BYBIT_API_SECRET", "required when EXECUTION_MODE=LIVE"),
    ({"EXECUTION_MODE": "PAPER"}, "EXECUTION_MODE", "'SIM', 'DRY' or 'LIVE'"),
    ({"WEB_PORT": "70000"}, "WEB_PORT", "less than or equal to 65535"),
    ({"WEB_PORT": "http"}, "WEB_PORT", "valid integer"),
    ({"DASHBOARD_METRICS_PORT": "-5"}, "DASHBOARD_METRICS_PORT", "greater than or equal to -1"),
    ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL", "redis://"),
    ({"STREAM_MAXLEN": "10"}, "STREAM_MAXLEN", "greater than or equal to 1000"),
    ({"BYBIT_NETWORK": "devnet"}, "BYBIT_NETWORK", "mainnet"),
    ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL", "DEBUG"),
    ({"SERVICE_CLUSTER_ID": "a b"}, "SERVICE_CLUSTER_ID", "pattern"),
    ({"WEB_PROT": "8080"}, "WEB_PROT", "unknown key"),
    ({"DEPLOY_OPT_DIR": "opt"}, "DEPLOY_OPT_DIR", "absolute path"),
    ({"WORKER_BACKUP_CRON": "15 3 * *"}, "WORKER_BACKUP_CRON", "crontab line"),
    ({"WORKER_RETENTION_CRON": "61 * * * *"}, "WORKER_RETENTION_CRON", "crontab line"),
])
def test_a_bad_value_names_its_key_and_the_problem(tmp_path, values, key, problem):
    with pytest.raises(ConfigError) as err:
        load(tmp_path, **values)
    assert err.value.key == key
    assert problem in err.value.problem


def test_an_empty_sqlite_path_means_the_default_users_db(tmp_path):
    """`SQLITE_PATH=` in an env file is "not set", as for every optional path, not the current directory."""
    s = load(tmp_path, SQLITE_PATH="", DATA_DIR=str(tmp_path / "data"))
    assert s.sqlite_path is None and s.users_db == tmp_path / "data" / "users.db"
    assert load(tmp_path, SQLITE_PATH=str(tmp_path / "u.db")).users_db == tmp_path / "u.db"


def test_a_bad_secret_is_named_but_never_echoed(tmp_path):
    with pytest.raises(ConfigError) as err:
        load(tmp_path, ADMIN_PASSWORD_HASH=SECRET)
    assert err.value.key == "ADMIN_PASSWORD_HASH" and SECRET not in str(err.value)


def test_live_requires_of_each_service_only_the_secrets_it_receives(tmp_path):
    path = tmp_path / "scalper.env"
    path.write_text("EXECUTION_MODE=LIVE\n")  # a per-service env file of market: no Bybit key, no admin
    assert config.load(path, service="market").execution_mode is ExecutionMode.LIVE
    with pytest.raises(ConfigError) as err:
        config.load(path, service="execution")
    assert err.value.key == "BYBIT_API_KEY"
    with pytest.raises(ConfigError) as err:
        config.load(path, service="dashboard")
    assert err.value.key == "ADMIN_PASSWORD_HASH"


def test_every_secret_goes_to_some_program_and_scalperctl_needs_only_its_redis_user(tmp_path):
    """The split (service_secrets.json, read by make run and the Ansible role alike) covers every secret
    key; the operator's CLI in LIVE needs no Bybit key nor admin hash (its env file on a host has none)."""
    assert set().union(*config.SERVICE_SECRETS.values()) == config.SECRET_KEYS
    path = tmp_path / "scalperctl.env"
    path.write_text("EXECUTION_MODE=LIVE\nREDIS_URL=redis://scalperctl:pw@127.0.0.1:6379/0\n")
    assert config.load(path, service="scalperctl").execution_mode is ExecutionMode.LIVE


def test_a_mistyped_key_is_named_but_its_value_never_echoed(tmp_path):
    with pytest.raises(ConfigError) as err:
        load(tmp_path, BYBIT_API_SECRETT=SECRET)
    assert err.value.key == "BYBIT_API_SECRETT" and SECRET not in str(err.value)


@pytest.mark.parametrize("value", ["k3y", "x" * 31])
def test_a_session_secret_under_32_bytes_is_refused(tmp_path, value):
    with pytest.raises(ConfigError) as err:
        load(tmp_path, SESSION_SECRET=value)
    assert err.value.key == "SESSION_SECRET" and value not in str(err.value)


def test_a_missing_env_file_that_was_asked_for_is_an_error(tmp_path):
    with pytest.raises(ConfigError) as err:
        config.load(tmp_path / "nope.env")
    assert err.value.key == config.ENV_FILE_VAR


def test_secrets_never_show_in_repr_or_the_public_view(tmp_path):
    s = load(tmp_path, EXECUTION_MODE="LIVE", BYBIT_API_KEY=SECRET, BYBIT_API_SECRET=SECRET + "2",
             TELEGRAM_BOT_TOKEN=SECRET + "3", ADMIN_PASSWORD_HASH=BCRYPT,
             REDIS_URL=f"redis://scalper:{SECRET}@127.0.0.1:6379/0")
    assert s.bybit_api_key.get_secret_value() == SECRET
    shown = [repr(s), str(s), repr(s.model_dump()), repr(s.public_view())]
    assert not any(SECRET in text or BCRYPT in text for text in shown)
    assert s.public_view()["REDIS_URL"] == "redis://scalper:********@127.0.0.1:6379/0"
    assert s.public_view()["BYBIT_API_KEY"] == "********"


@pytest.mark.parametrize(("service", "env", "key"), [
    ("execution", {"EXECUTION_MODE": "LIVE"}, "BYBIT_API_KEY"),
    ("worker", {"EXECUTION_MODE": "YOLO"}, "EXECUTION_MODE"),
    ("worker", {"WORKER_METRICS_PORT": "99999"}, "WORKER_METRICS_PORT"),
    ("worker", {"ADMIN_PASSWORD_HASH": SECRET}, "ADMIN_PASSWORD_HASH"),
    ("dashboard", {"DEPLOY_STATE_DIR": "var/deploy"}, "DEPLOY_STATE_DIR"),
    ("dashboard", {"TELEGRAM_SUMMARY_TIME": "24:00"}, "TELEGRAM_SUMMARY_TIME"),
    ("dashboard", {"TELEGRAM_TIMEZONE": "Mars/Olympus_Mons"}, "TELEGRAM_TIMEZONE"),
    ("worker", {"WORKER_BACKUP_CRON": "15 3 * *"}, "WORKER_BACKUP_CRON"),
    ("execution", {"HTTPS_PROXY": "socks5://127.0.0.1:1080"}, "HTTPS_PROXY"),
])
def test_a_service_with_a_bad_config_exits_78_with_one_line_naming_the_key(redis_url, service, env, key):
    proc = subprocess.run([str(VENV_BIN / f"scalper-{service}")], env=service_env(redis_url, **env),
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == config.EX_CONFIG
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"config error: {key}: "), proc.stderr
    assert SECRET not in proc.stderr + proc.stdout


def test_reload_prefers_the_env_file_and_start_prefers_the_environment(tmp_path, monkeypatch):
    env_file = tmp_path / "scalper.env"
    env_file.write_text("LOG_LEVEL=DEBUG\n")
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    monkeypatch.setenv(config.ENV_FILE_VAR, str(env_file))
    assert config.load().log_level is config.LogLevel.INFO
    assert config.load(file_wins=True).log_level is config.LogLevel.DEBUG


def test_reload_still_names_a_bad_key_in_the_file(tmp_path, monkeypatch):
    env_file = tmp_path / "scalper.env"
    env_file.write_text("LOG_LEVEL=LOUD\n")
    monkeypatch.setenv(config.ENV_FILE_VAR, str(env_file))
    try:
        config.load(file_wins=True)
    except config.ConfigError as e:
        assert e.key == "LOG_LEVEL"
    else:
        raise AssertionError("a bad LOG_LEVEL in the file was accepted")
