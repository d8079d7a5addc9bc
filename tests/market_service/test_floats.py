"""The price-string cache reads exactly what float() reads, refuses what it refuses, and stays bounded."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market_service import floats as f

pytestmark = pytest.mark.unit


@given(st.lists(st.one_of(st.floats(allow_nan=False).map(repr), st.decimals(allow_nan=False).map(str)),
                max_size=50))
def test_a_cached_read_equals_a_fresh_float_read(texts):
    cache = f.Floats()
    for text in texts + texts:  # the second pass hits the cache
        assert cache[text] == float(text)


def test_unreadable_text_raises_as_float_does_and_is_not_kept():
    cache = f.Floats()
    with pytest.raises(ValueError):
        cache["1.2.3"]
    assert "1.2.3" not in cache


def test_the_cache_is_emptied_when_full(monkeypatch):
    monkeypatch.setattr(f, "MAX_ENTRIES", 3)
    cache = f.Floats()
    for n in range(7):
        assert cache[str(n)] == n
        assert len(cache) <= 3
