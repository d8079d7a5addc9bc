"""Start the simulator as a real process on a real socket, as users and the acceptance scripts do."""

from __future__ import annotations

import json
import signal
import subprocess
from dataclasses import dataclass

import pytest

from tests.support import VENV_BIN, wait_until

KEY, SECRET = "testkey0123456789", "testsecret0123456789abcdef"


@dataclass
class SimProc:
    proc: subprocess.Popen
    rest: str
    ws_public: str
    ws_private: str
    key: str = KEY
    secret: str = SECRET

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)


def start_sim(*extra: str, tmp_path) -> SimProc:
    """`scalper-exchange-sim --port 0 ...`; waits for its JSON line of URLs."""
    out = tmp_path / "sim.out"
    args = [str(VENV_BIN / "scalper-exchange-sim"), "--port", "0", "--api-key", KEY, "--api-secret", SECRET,
            "--symbols", "BTCUSDT,ETHUSDT", "--seed", "7", "--balance", "100000", *extra]
    proc = subprocess.Popen(args, stdout=open(out, "wb"), stderr=subprocess.STDOUT, start_new_session=True)

    def line():
        if proc.poll() is not None:
            raise AssertionError(f"simulator exited: {out.read_text()[-2000:]}")
        text = out.read_text()
        return text.splitlines()[0] if text.endswith("\n") else None

    urls = json.loads(wait_until(line, timeout=30, what="the simulator's URL line"))
    return SimProc(proc=proc, rest=urls["rest"], ws_public=urls["ws_public"], ws_private=urls["ws_private"])


@pytest.fixture
def sim(tmp_path):
    s = start_sim("--admin-token", "admintoken", tmp_path=tmp_path)
    yield s
    s.stop()
