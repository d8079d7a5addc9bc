"""A config hot reload reads the env file over the environment (systemd froze the env at start)."""

from common import config


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
