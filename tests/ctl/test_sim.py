"""`scalperctl sim ...` (scalperctl/sim.py) flips the simulator's faults, signing with the account's
credentials from the settings."""

from __future__ import annotations

import json
import os
import subprocess

import httpx
import pytest

from tests.support import scalperctl, start_sim

pytestmark = pytest.mark.service


@pytest.fixture
def sim(tmp_path):
    """The simulator as a real process, with no admin token: the account's signature is enough."""
    s = start_sim(tmp_path=tmp_path)
    yield s
    s.stop()


def sim_ctl(sim, *args: str, key: str | None = None) -> subprocess.CompletedProcess:
    """`scalperctl sim ARGS` with only the simulator's URL and the account in the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BYBIT_")}
    env.update(SCALPER_ENV_FILE="/nonexistent/.env", BYBIT_REST_URL=sim.rest, BYBIT_API_KEY=key or sim.key,
               BYBIT_API_SECRET=sim.secret)
    return scalperctl("sim", *args, env=env)


def test_set_show_drop_and_reset_faults(sim):
    done = sim_ctl(sim, "set", "rest_delay_ms=250", "ws_public_silent=on", "ambiguous_submit=5xx")
    assert done.returncode == 0, done.stderr
    shown = json.loads(sim_ctl(sim, "faults").stdout)
    assert (shown["rest_delay_ms"], shown["ws_public_silent"], shown["ambiguous_submit"]) == (250, True, "5xx")
    tickers = httpx.get(f"{sim.rest}/v5/market/tickers", params={"category": "linear"}, timeout=10)
    assert tickers.elapsed.total_seconds() >= 0.25  # the switch is live in the running simulator
    assert sim_ctl(sim, "drop", "all").returncode == 0
    status = json.loads(sim_ctl(sim, "status").stdout)
    assert status["symbols"] == ["BTCUSDT", "ETHUSDT"] and status["market_steps"] > 0
    assert json.loads(sim_ctl(sim, "reset").stdout)["rest_delay_ms"] == 0


def test_bad_key_and_bad_switch_are_refused(sim):
    wrong = sim_ctl(sim, "faults", key="someone-else")
    assert wrong.returncode == 1 and "10003" in wrong.stderr
    typo = sim_ctl(sim, "set", "rest_dealy_ms=5")
    assert typo.returncode == 2 and "rest_dealy_ms" in typo.stderr
    bad = sim_ctl(sim, "set", "ambiguous_submit=maybe")
    assert bad.returncode == 1 and "10001" in bad.stderr
