"""The book's sorted price lists stay in step with its levels under any sequence of snapshots and deltas."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.engine.book import Book

pytestmark = pytest.mark.unit

levels = st.lists(st.tuples(st.integers(1, 60).map(Decimal), st.integers(0, 3).map(Decimal)), max_size=12)
messages = st.lists(st.tuples(st.booleans(), levels, levels), min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(messages)
def test_book_matches_a_plain_dict_model(script):
    book = Book()
    bids: dict[Decimal, Decimal] = {}
    asks: dict[Decimal, Decimal] = {}
    for snapshot, new_bids, new_asks in script:
        if snapshot:
            book.replace(new_bids, new_asks)
            bids, asks = {}, {}
        else:
            book.patch(new_bids, new_asks)
        for model, changes in ((bids, new_bids), (asks, new_asks)):
            for price, size in changes:
                if size:
                    model[price] = size
                else:
                    model.pop(price, None)
        want_bids = sorted(bids.items(), reverse=True)
        want_asks = sorted(asks.items())
        assert book.top(100) == (want_bids, want_asks)
        assert book.top(2) == (want_bids[:2], want_asks[:2])
        assert book.best_bid() == (want_bids[0] if want_bids else None)
        assert book.best_ask() == (want_asks[0] if want_asks else None)
