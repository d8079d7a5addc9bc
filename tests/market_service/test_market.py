"""Staleness rules of the feed state, on an injected clock: probe a quiet book, distrust a dead one."""

from __future__ import annotations

import pytest

from common.bybit.schemas.envelope import PublicMsg
from common.bybit.schemas.orderbook import OrderbookData
from market_service.market import Market

pytestmark = pytest.mark.unit


class Recorder:
    """Stands in for the publisher and the service's resync hook."""

    def __init__(self) -> None:
        self.books: list[str] = []
        self.resyncs: list[tuple[str, str]] = []
        self.coalesced = 0

    def book(self, symbol: str) -> None:
        self.books.append(symbol)

    def discard(self, symbol: str) -> None:
        pass


def make(clock: list[int]) -> tuple[Market, Recorder]:
    rec = Recorder()
    market = Market(
        publisher=rec,
        resync=lambda s, why: rec.resyncs.append((s, why)),
        flow_window_s=60,
        vol_window_s=60,
        imbalance_levels=5,
        publish_levels=10,
        clock_ns=lambda: clock[0],
    )
    market.add("BTCUSDT")
    return market, rec


def snapshot(u: int) -> PublicMsg:
    data = OrderbookData(s="BTCUSDT", b=[("100", "1")], a=[("101", "1")], u=u, seq=u)
    return PublicMsg(topic="orderbook.50.BTCUSDT", type="snapshot", ts=1, data=data)


S = 1_000_000_000


def test_a_quiet_book_is_probed_and_stays_live_when_the_snapshot_comes():
    clock = [0]
    market, rec = make(clock)
    market.on_message(snapshot(1))
    clock[0] = 3 * S
    market.check_stale(stale_after_s=2)
    assert rec.resyncs == [("BTCUSDT", "no book message for 2 s")] and market.stale() == {}
    clock[0] = 3 * S + S // 10
    market.on_message(snapshot(2))  # the probe's answer
    clock[0] = 5 * S
    market.check_stale(stale_after_s=2)
    assert market.stale() == {} and len(rec.resyncs) == 1
    clock[0] = 5 * S + S // 5  # quiet for 2 s again: another probe, still live
    market.check_stale(stale_after_s=2)
    assert market.stale() == {} and len(rec.resyncs) == 2


def test_an_unanswered_probe_makes_the_book_stale_and_a_dead_feed_keeps_asking():
    clock = [0]
    market, rec = make(clock)
    market.on_message(snapshot(1))
    clock[0] = 3 * S
    market.check_stale(stale_after_s=2)
    clock[0] = 4 * S
    market.check_stale(stale_after_s=2)
    assert market.stale() == {}  # the probe still has time
    clock[0] = 5 * S + 1
    market.check_stale(stale_after_s=2)
    assert market.stale() == {"BTCUSDT": "resync unanswered: no book message for 4 s"}
    assert rec.books[-1] == "BTCUSDT"  # the stale book is published once, so consumers know
    clock[0] = 7 * S + 2
    market.check_stale(stale_after_s=2)
    assert rec.resyncs[-1][1].startswith("resync unanswered") and len(rec.resyncs) == 3
    market.on_message(snapshot(9))
    assert market.stale() == {}


def test_gap_publishes_stale_and_later_deltas_wait_quietly_for_the_snapshot():
    clock = [0]
    market, rec = make(clock)
    market.on_message(snapshot(1))
    delta = PublicMsg(
        topic="orderbook.50.BTCUSDT",
        type="delta",
        ts=2,
        data=OrderbookData(s="BTCUSDT", b=[("100", "2")], a=[], u=5, seq=5),
    )
    market.on_message(delta)
    assert rec.resyncs == [("BTCUSDT", "BTCUSDT: gap: delta u=5 after u=1")]
    assert market.book_top("BTCUSDT", 0).stale
    market.on_message(
        PublicMsg(
            topic="orderbook.50.BTCUSDT",
            type="delta",
            ts=3,
            data=OrderbookData(s="BTCUSDT", b=[], a=[], u=6, seq=6),
        )
    )
    assert len(rec.resyncs) == 1  # no storm of resyncs for the deltas in flight
    market.on_message(snapshot(7))
    assert not market.book_top("BTCUSDT", 0).stale
