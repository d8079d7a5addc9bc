"""The local book against Bybit's rules: hand cases, and hypothesis against a naive reference."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.bybit.schemas.orderbook import OrderbookData
from market_service.book import Book, BookError
from market_service.features import ofi_step

pytestmark = pytest.mark.unit


def msg(u: int, b=(), a=()) -> OrderbookData:
    return OrderbookData(s="BTCUSDT", b=[tuple(x) for x in b], a=[tuple(x) for x in a], u=u, seq=u)


def test_snapshot_then_deltas_update_delete_and_insert():
    book = Book("BTCUSDT")
    book.apply(kind="snapshot", data=msg(10, b=[("100.0", "1"), ("99.5", "2")], a=[("101.0", "3")]), ts_ms=1)
    book.apply(kind="delta", data=msg(11, b=[("99.5", "0"), ("100.5", "4")], a=[("101.0", "1.5")]), ts_ms=2)
    assert book.levels(5) == ([("100.5", "4"), ("100.0", "1")], [("101.0", "1.5")])
    assert (book.u, book.stale, book.ts_ms) == (11, "", 2)


def test_gap_marks_the_book_stale_until_the_next_snapshot():
    book = Book("BTCUSDT")
    book.apply(kind="snapshot", data=msg(5, b=[("100", "1")], a=[("101", "1")]), ts_ms=1)
    with pytest.raises(BookError, match="gap: delta u=7 after u=5"):
        book.apply(kind="delta", data=msg(7, b=[("100", "2")]), ts_ms=2)
    assert book.stale and book.u == 0
    with pytest.raises(BookError, match="without a snapshot"):  # later deltas cannot heal it
        book.apply(kind="delta", data=msg(8), ts_ms=3)
    book.apply(kind="snapshot", data=msg(9, b=[("100", "3")], a=[("101", "1")]), ts_ms=4)
    assert book.stale == "" and book.levels(1) == ([("100", "3")], [("101", "1")])


def test_u_equal_1_is_a_snapshot_even_when_typed_delta():
    book = Book("BTCUSDT")
    book.apply(kind="snapshot", data=msg(500, b=[("100", "1")], a=[("101", "1")]), ts_ms=1)
    book.apply(kind="delta", data=msg(1, b=[("90", "1")], a=[("91", "1")]), ts_ms=2)  # engine restart
    assert book.levels(5) == ([("90", "1")], [("91", "1")]) and book.u == 1


def test_crossed_book_and_bad_sizes_are_refused():
    book = Book("BTCUSDT")
    book.apply(kind="snapshot", data=msg(1, b=[("100", "1")], a=[("101", "1")]), ts_ms=1)
    with pytest.raises(BookError, match="crossed"):
        book.apply(kind="delta", data=msg(2, b=[("101.5", "1")]), ts_ms=2)
    assert book.stale.startswith("crossed")
    for bad in ("-1", "abc", "nan"):
        fresh = Book("X")
        with pytest.raises(BookError):
            fresh.apply(kind="snapshot", data=msg(3, b=[("100", bad)], a=[("101", "1")]), ts_ms=3)


@pytest.mark.parametrize("kind", ["snapshot", "delta"])
@pytest.mark.parametrize("price", ["abc", "", "nan", "inf"])
def test_a_price_the_book_cannot_order_is_refused_not_raised_as_anything_else(kind, price):
    book = Book("X")
    book.apply(kind="snapshot", data=msg(1, b=[("100", "1")], a=[("101", "1")]), ts_ms=1)
    with pytest.raises(BookError, match="unreadable level|invalid price"):
        book.apply(kind=kind, data=msg(2, b=[(price, "1")]), ts_ms=2)
    assert book.stale and book.u == 0


def test_levels_beyond_the_topic_depth_are_dropped():
    book = Book("BTCUSDT", depth=2)
    book.apply(
        kind="snapshot", data=msg(1, b=[("100", "1"), ("99", "1"), ("98", "1")], a=[("101", "1")]), ts_ms=1
    )
    assert book.levels(5)[0] == [("100", "1"), ("99", "1")]
    book.apply(kind="delta", data=msg(2, b=[("100.5", "2")], a=[("102", "1"), ("103", "1")]), ts_ms=2)
    assert book.levels(5) == ([("100.5", "2"), ("100", "1")], [("101", "1"), ("102", "1")])
    book.apply(kind="delta", data=msg(3, b=[("100.5", "0")]), ts_ms=3)
    assert book.levels(5)[0] == [("100", "1")]  # 99 fell out of the window before: it does not come back


def test_prices_compare_by_value_not_by_spelling():
    book = Book("BTCUSDT")
    book.apply(kind="snapshot", data=msg(1, b=[("100.10", "1")], a=[("101", "1")]), ts_ms=1)
    book.apply(kind="delta", data=msg(2, b=[("100.1", "0")]), ts_ms=2)
    assert book.levels(5)[0] == []


# --- property: random snapshot/delta sequences against a naive Decimal reference -----------------
# Sizes the book must refuse: negative, unreadable, empty, not finite.
BAD_SIZES = ("-1", "-0.5", "abc", "", "nan", "inf", "1e400")
prices = st.integers(min_value=1, max_value=60).map(lambda t: f"{t / 2:.1f}")
sizes = st.sampled_from(["0", "0", "0.5", "1", "2.25", "10"])
levels = st.lists(st.tuples(prices, sizes), max_size=8)
# In about one message in four, one level somewhere in the bids or the asks has a bad size.
bad_level = st.one_of(
    st.none(), st.none(), st.none(),
    st.tuples(st.booleans(), st.integers(0, 8), st.tuples(prices, st.sampled_from(BAD_SIZES))),
)


@st.composite
def step(draw):
    kind = draw(st.sampled_from(["snapshot", "delta", "delta", "delta"]))
    b, a, bad = draw(levels), draw(levels), draw(bad_level)
    if bad is not None:
        on_bids, at, level = bad
        (b if on_bids else a).insert(at, level)
    return kind, b, a, draw(st.sampled_from([1, 1, 1, 1, 2, 0]))


steps = st.lists(step(), min_size=1, max_size=40)


def naive(bids: dict, asks: dict, kind: str, b, a) -> tuple[dict, dict]:
    if kind == "snapshot":
        bids, asks = {}, {}
    bids, asks = dict(bids), dict(asks)
    for side, lv in ((bids, b), (asks, a)):
        for p, q in lv:
            if Decimal(q) == 0:
                side.pop(Decimal(p), None)
            else:
                side[Decimal(p)] = q
    return bids, asks


@settings(max_examples=400, deadline=None)
@given(steps)
def test_book_equals_a_naive_reference_and_is_never_crossed(seq):
    book, ref_b, ref_a, ref_ok, last_u = Book("X"), {}, {}, False, 10
    for kind, b, a, jump in seq:
        u = last_u + (jump if kind == "delta" else 1)
        last_u = u
        bad_size = any(q in BAD_SIZES for _, q in b + a)
        gap = kind == "delta" and (not ref_ok or jump != 1)
        nb, na = (ref_b, ref_a) if bad_size else naive(ref_b, ref_a, kind, b, a)
        crossed = bool(nb and na and max(nb) >= min(na))
        should_fail = bad_size or gap or crossed
        try:
            book.apply(kind=kind, data=msg(u, b=b, a=a), ts_ms=u)
            error = ""
        except BookError as e:
            error = str(e)
        assert bool(error) == should_fail, (error, kind, b, a)
        if not error:
            ref_b, ref_a, ref_ok = nb, na, True
            bids, asks = book.levels(100)
            assert [(Decimal(p), q) for p, q in bids] == sorted(ref_b.items(), reverse=True)
            assert [(Decimal(p), q) for p, q in asks] == sorted(ref_a.items())
            assert all(float(q) > 0 for _, q in bids + asks)
            if bids and asks:
                assert Decimal(bids[0][0]) < Decimal(asks[0][0])
            assert book.u == u and not book.stale
        else:
            if bad_size and not gap:  # refused for the size itself, and it says so
                assert "size" in error or "unreadable level" in error, error
            ref_ok = False
            assert book.stale and book.u == 0


# --- property: a depth-limited book, its top and its order flow against a reference ---------------
bid_levels = st.lists(st.tuples(st.integers(1, 30).map(str), sizes), max_size=8)
ask_levels = st.lists(st.tuples(st.integers(31, 60).map(str), sizes), max_size=8)  # never crossed
book_steps = st.lists(st.tuples(st.sampled_from(["snapshot", "delta", "delta", "delta", "delta"]),
                                bid_levels, ask_levels), min_size=1, max_size=60)


def top_of(bids: dict, asks: dict) -> tuple[float, float, float, float] | None:
    if not bids or not asks:
        return None
    bid, ask = max(bids), min(asks)
    return float(bid), float(bids[bid]), float(ask), float(asks[ask])


@settings(max_examples=300, deadline=None)
@given(book_steps, st.integers(1, 6))
def test_a_depth_limited_book_its_top_and_order_flow_equal_a_reference(seq, depth):
    book, ref_b, ref_a, ofi, prev = Book("X", depth=depth), {}, {}, 0.0, None
    for u, (kind, b, a) in enumerate(seq, start=2):
        kind = "snapshot" if u == 2 else kind  # a book starts from a snapshot
        ref_b, ref_a = naive(ref_b, ref_a, kind, b, a)
        ref_b = dict(sorted(ref_b.items(), reverse=True)[:depth])  # the topic's window: the best `depth`
        ref_a = dict(sorted(ref_a.items())[:depth])
        book.apply(kind=kind, data=msg(u, b=b, a=a), ts_ms=u)
        top = top_of(ref_b, ref_a)
        if kind == "snapshot":
            prev = None  # no order flow across a snapshot
        if prev is not None and top is not None:
            ofi += ofi_step(prev, top)
        prev = top
        bids, asks = book.levels(depth + 5)
        assert [(Decimal(p), q) for p, q in bids] == sorted(ref_b.items(), reverse=True)
        assert [(Decimal(p), q) for p, q in asks] == sorted(ref_a.items())
        assert book.top() == top
        assert book.ofi == pytest.approx(ofi)
