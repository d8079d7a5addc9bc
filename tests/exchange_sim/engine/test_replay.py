"""Replay of a recorded Bybit v5 public WebSocket session (data/bybit_public.jsonl)."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from exchange_sim.engine import BookUpdate, Exchange, TradeTick, read_replay

RECORDING = Path(__file__).parent / "data" / "bybit_public.jsonl"


def test_replay_yields_books_and_trades_in_file_order_and_skips_acks_and_tickers():
    events = list(read_replay(RECORDING))
    assert [(type(e).__name__, ts) for ts, e in events] == [
        ("BookUpdate", 1700000000012), ("TradeTick", 1700000000148), ("TradeTick", 1700000000149),
        ("BookUpdate", 1700000000212), ("BookUpdate", 1700000000230), ("BookUpdate", 1700000000412),
        ("TradeTick", 1700000000518)]
    first = events[0][1]
    assert first == BookUpdate(symbol="BTCUSDT", kind="snapshot",
                               bids=[(D("60000.00"), D("0.500")), (D("59999.90"), D("1.200")),
                                     (D("59999.50"), D("0.010"))],
                               asks=[(D("60000.10"), D("0.300")), (D("60000.50"), D("0.800")),
                                     (D("60001.00"), D("2.000"))],
                               u=1, seq=71254800001, ts_ms=1700000000012, cts_ms=1700000000010)
    assert events[2][1] == TradeTick(symbol="BTCUSDT", trade_id="c3a1b2d4-8e7f-5a6b-9c0d-1e2f3a4b5c6d",
                                     side="Sell", price=D("60000.00"), size=D("0.250"), ts_ms=1700000000149,
                                     tick_direction="MinusTick")


def test_replayed_market_drives_the_book_and_fills_a_resting_order():
    ex = Exchange(symbols=["BTCUSDT", "ETHUSDT"], balance=D(10_000))
    events = iter(read_replay(RECORDING))
    for _ in range(4):  # up to and including the first delta
        ex.apply(next(events)[1])
    order = ex.place_order(symbol="BTCUSDT", side="Buy", order_type="Limit", qty=D("0.200"),
                           price=D("59999.70"), now_ms=1700000000300)
    for _, event in events:
        ex.apply(event)
    bids, asks, u, seq, ts = ex.book("BTCUSDT", 50)
    assert bids == [(D("60000.00"), D("0.250")), (D("59999.90"), D("1.200")), (D("59999.70"), D("0.400"))]
    assert asks == [(D("60000.30"), D("0.150")), (D("60000.50"), D("0.800")), (D("60001.00"), D("2.000"))]
    assert (u, seq, ts) == (3, 71254800044, 1700000000412)
    assert ex.ticker("BTCUSDT")["lastPrice"] == D("59999.70")
    # placed before the 0.400 level appeared, so nothing was queued ahead: the 0.300 sell fills 0.200
    filled = ex.order_history(order_id=order.order_id)[0]
    assert (filled.order_status, filled.avg_price) == ("Filled", D("59999.70"))
    assert ex.book("ETHUSDT", 1)[:2] == ([(D("3200.00"), D("10.00"))], [(D("3200.01"), D("4.50"))])


def test_a_broken_line_names_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    broken = '{"topic":"orderbook.50.BTCUSDT","data":{"s":1}}'
    bad.write_text(RECORDING.read_text().splitlines()[1] + "\n" + broken + "\n")
    with pytest.raises(ValueError, match=r"bad.jsonl:2"):
        list(read_replay(bad))


def test_only_the_first_book_depth_of_a_symbol_is_replayed(tmp_path):
    lines = RECORDING.read_text().splitlines()
    top = ('{"topic":"orderbook.1.BTCUSDT","type":"snapshot","ts":1700000000300,"data":{"s":"BTCUSDT",'
           '"b":[["59000.00","1.000"]],"a":[["59000.10","1.000"]],"u":9,"seq":71254800030},"cts":1700000000299}')
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("\n".join(lines[:5] + [top] + lines[5:]) + "\n")
    ex = Exchange(symbols=["BTCUSDT", "ETHUSDT"], balance=D(1))
    for _, event in read_replay(mixed):
        ex.apply(event)
    assert ex.book("BTCUSDT", 1)[0] == [(D("60000.00"), D("0.250"))]
