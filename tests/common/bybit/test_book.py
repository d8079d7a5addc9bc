"""The local book: snapshot, deltas, deletion, and a gap that must be detected."""

from __future__ import annotations

import pytest
from common.bybit.book import BookGap, LocalBook
from common.bybit.schemas.orderbook import OrderbookData


def data(u, b=(), a=()):
    return OrderbookData(s="BTCUSDT", b=list(b), a=list(a), u=u, seq=u * 10)


def test_snapshot_then_deltas_then_gap():
    book = LocalBook("BTCUSDT")
    book.apply(kind="snapshot", data=data(5, b=[("100.0", "1"), ("99.5", "2")], a=[("100.5", "3")]))
    book.apply(kind="delta", data=data(6, b=[("100.0", "0"), ("99.9", "4")], a=[("101.0", "1")]))
    assert book.levels(10) == ([("99.9", "4"), ("99.5", "2")], [("100.5", "3"), ("101.0", "1")])
    with pytest.raises(BookGap, match="u=8 after u=6"):
        book.apply(kind="delta", data=data(8, a=[("100.5", "0")]))
    with pytest.raises(BookGap):  # still broken until a snapshot arrives
        book.apply(kind="delta", data=data(9))
    book.apply(kind="snapshot", data=data(9, b=[("98", "1")]))
    assert book.levels(1) == ([("98", "1")], [])


def test_levels_sort_numerically_not_as_text():
    book = LocalBook("X")
    book.apply(kind="snapshot", data=data(1, b=[("9.5", "1"), ("10.0", "1")], a=[("10.5", "1"), ("9.9",
                                                                                                 "1")]))
    assert book.levels(2) == ([("10.0", "1"), ("9.5", "1")], [("9.9", "1"), ("10.5", "1")])
