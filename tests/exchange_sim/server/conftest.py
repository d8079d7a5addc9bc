"""The simulator fixture: a real process on a real socket (tests.support.start_sim), with an admin token."""

from __future__ import annotations

import pytest

from tests.support import start_sim


@pytest.fixture
def sim(tmp_path):
    s = start_sim("--admin-token", "admintoken", tmp_path=tmp_path)
    yield s
    s.stop()
