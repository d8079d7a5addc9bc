"""The engine's bounded memory of ids it has seen."""

import pytest

from strategy_service.state import Recent

pytestmark = pytest.mark.unit


def test_seen_ids_are_bounded_and_forget_the_oldest_first():
    seen = Recent(cap=3)
    for k in "abcd":
        seen.add(k)
    assert "a" not in seen and all(k in seen for k in "bcd")
