"""The one derivation of execution-quality figures from their sums, and the time buckets they are kept in."""

from __future__ import annotations

import pytest

from common import constants as c
from common.quality import bucket_start, bucket_starts, figures

pytestmark = pytest.mark.unit


def test_figures_from_a_hash_as_redis_returns_it():
    raw = {b"orders": b"4", b"intent_qty": b"0.4", b"ack_s": b"0.2", b"fills": b"3", b"fill_qty": b"0.3",
           b"maker_qty": b"0.1", b"taker_qty": b"0.2", b"fees": b"0.5", b"slippage_bps_qty": b"0.6",
           b"matched_qty": b"0.2", b"first_fills": b"2", b"ttff_s": b"0.5"}
    f = figures(raw)
    assert f["orders"] == 4.0 and f["fees"] == 0.5  # the sums stay, as floats
    assert f["fill_ratio"] == pytest.approx(0.75)
    assert f["maker_share"] == pytest.approx(1 / 3)
    assert f["slippage_bps"] == pytest.approx(3.0)  # over matched_qty, not fill_qty: 0.1 had no reference
    assert f["ttff_s_mean"] == pytest.approx(0.25)
    assert f["ack_s_mean"] == pytest.approx(0.05)


def test_a_ratio_without_its_denominator_is_unknown_not_zero():
    f = figures({"orders": "1", "intent_qty": "0.5", "ack_s": "0.01"})  # acked, nothing filled yet
    assert f["fill_ratio"] == 0.0 and f["ack_s_mean"] == pytest.approx(0.01)
    assert f["maker_share"] is None and f["slippage_bps"] is None and f["ttff_s_mean"] is None
    assert set(figures({}).values()) == {None}


def test_buckets_are_aligned_and_cover_the_span():
    size = c.EXEC_QUALITY_BUCKET_S
    assert bucket_start(10 * size) == 10 * size and bucket_start(11 * size - 0.001) == 10 * size
    starts = bucket_starts(100 * size + 7, 86_400)
    assert len(starts) == 86_400 // size and starts[-1] == 100 * size
    assert all(b - a == size for a, b in zip(starts, starts[1:]))
