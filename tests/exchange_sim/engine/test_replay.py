"""Replay of a recorded Bybit v5 public WebSocket session (data/bybit_public.jsonl)."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

import pytest

from exchange_sim.engine import BookUpdate, Exchange, TickerUpdate, TradeTick, read_replay

pytestmark = pytest.mark.unit

RECORDING = Path(__file__).parent / "data" / "bybit_public.jsonl"


def test_replay_yields_books_trades_and_tickers_in_file_order_and_skips_acks():
    events = list(read_replay(RECORDING))
    assert [(type(e).__name__, ts) for ts, e in events] == [
        ("BookUpdate", 1700000000012), ("TickerUpdate", 1700000000013), ("TradeTick", 1700000000148),
        ("TradeTick", 1700000000149), ("BookUpdate", 1700000000212), ("BookUpdate", 1700000000230),
        ("BookUpdate", 1700000000412), ("TradeTick", 1700000000518)]
    first = events[0][1]
    assert first == BookUpdate(symbol="BTCUSDT", kind="snapshot",
                               bids=[(D("60000.00"), D("0.500")), (D("59999.90"), D("1.200")),
                                     (D("59999.50"), D("0.010"))],
                               asks=[(D("60000.10"), D("0.300")), (D("60000.50"), D("0.800")),
                                     (D("60001.00"), D("2.000"))],
                               u=1, seq=71254800001, ts_ms=1700000000012, cts_ms=1700000000010)
    assert events[1][1] == TickerUpdate(symbol="BTCUSDT", mark_price=D("60000.05"), index_price=D("59998.70"),
                                        funding_rate=D("0.0001"), next_funding_ms=1700006400000,
                                        ts_ms=1700000000013)
    assert events[3][1] == TradeTick(symbol="BTCUSDT", trade_id="c3a1b2d4-8e7f-5a6b-9c0d-1e2f3a4b5c6d",
                                     side="Sell", price=D("60000.00"), size=D("0.250"), ts_ms=1700000000149,
                                     tick_direction="MinusTick")


def test_replayed_market_drives_the_book_and_fills_a_resting_order():
    ex = Exchange(symbols=["BTCUSDT", "ETHUSDT"], balance=D(10_000))
    events = iter(read_replay(RECORDING))
    for _ in range(5):  # up to and including the first delta
        ex.apply(next(events)[1])
    order = ex.place_order(symbol="BTCUSDT", side="Buy", order_type="Limit", qty=D("0.200"),
                           price=D("59999.70"), now_ms=1700000000300)
    for _, event in events:
        ex.apply(event)
    bids, asks, u, seq, ts = ex.book("BTCUSDT", 50)
    assert bids == [(D("60000.00"), D("0.250")), (D("59999.90"), D("1.200")), (D("59999.70"), D("0.400"))]
    assert asks == [(D("60000.30"), D("0.150")), (D("60000.50"), D("0.800")), (D("60001.00"), D("2.000"))]
    assert (u, seq, ts) == (3, 71254800044, 1700000000412)
    ticker = ex.ticker("BTCUSDT")
    assert ticker["lastPrice"] == D("59999.70")
    # the recorded mark, index and funding hold although the book's mid has moved since
    assert (ticker["markPrice"], ticker["indexPrice"]) == (D("60000.05"), D("59998.70"))
    assert (ticker["fundingRate"], ticker["nextFundingTime"]) == (D("0.0001"), 1700006400000)
    # placed before the 0.400 level appeared, so nothing was queued ahead: the 0.300 sell fills 0.200
    filled = ex.order_history(order_id=order.order_id)[0]
    assert (filled.order_status, filled.avg_price) == ("Filled", D("59999.70"))
    assert ex.book("ETHUSDT", 1)[:2] == ([(D("3200.00"), D("10.00"))], [(D("3200.01"), D("4.50"))])
    assert ex.ticker("ETHUSDT")["markPrice"] == D("3200.00")  # no recorded ticker: the mid, on the tick


def line(topic: str, kind: str, ts: int, data: dict) -> str:
    return json.dumps({"topic": topic, "type": kind, "ts": ts, "data": data})


def depth(u: int, bids: list, asks: list) -> dict:
    return {"s": "BTCUSDT", "b": bids, "a": asks, "u": u, "seq": u * 10}


def test_a_delta_with_u_1_is_a_snapshot_after_a_bybit_restart(tmp_path):
    path = tmp_path / "restart.jsonl"
    path.write_text("\n".join([
        line("orderbook.50.BTCUSDT", "snapshot", 1, depth(1, [["60000.0", "1.000"], ["59999.0", "2.000"]],
                                                          [["60001.0", "1.000"], ["60002.0", "2.000"]])),
        line("orderbook.50.BTCUSDT", "delta", 2, depth(2, [["59998.0", "3.000"]], [])),
        # the service restarted: "delta" with u=1 holds the whole new book, older levels are gone
        line("orderbook.50.BTCUSDT", "delta", 3, depth(1, [["59990.0", "0.500"]], [["59991.0", "0.700"]])),
        line("orderbook.50.BTCUSDT", "delta", 4, depth(2, [["59989.0", "0.100"]], [])),
    ]) + "\n")
    events = [ev for _, ev in read_replay(path)]
    assert [(ev.kind, ev.u) for ev in events] == [("snapshot", 1), ("delta", 2), ("snapshot", 1),
                                                  ("delta", 2)]
    ex = Exchange(symbols=["BTCUSDT"], balance=D(1))
    for ev in events:
        ex.apply(ev)
    assert ex.book("BTCUSDT", 50)[:3] == ([(D("59990.0"), D("0.500")), (D("59989.0"), D("0.100"))],
                                          [(D("59991.0"), D("0.700"))], 2)


def test_a_recorded_mark_price_triggers_a_mark_stop_loss_the_book_never_reaches(tmp_path):
    path = tmp_path / "mark.jsonl"
    path.write_text("\n".join([
        line("orderbook.50.BTCUSDT", "snapshot", 1, depth(1, [["60000.0", "5.000"]], [["60001.0", "5.000"]])),
        line("tickers.BTCUSDT", "snapshot", 2, {"symbol": "BTCUSDT", "markPrice": "60000.50"}),
        line("tickers.BTCUSDT", "delta", 3, {"symbol": "BTCUSDT", "markPrice": "59899.90"}),
    ]) + "\n")
    ex = Exchange(symbols=["BTCUSDT"], balance=D(10_000))
    events = iter(read_replay(path))
    for _ in range(2):
        ex.apply(next(events)[1])
    ex.place_order(symbol="BTCUSDT", side="Buy", order_type="Market", qty=D("0.010"), stop_loss=D("59900.0"),
                   sl_trigger_by="MarkPrice", now_ms=2)
    assert ex.positions(symbol="BTCUSDT")[0].size == D("0.010")
    ex.apply(next(events)[1])  # the book still says 60000.0/60001.0; the recorded mark is below the SL
    assert ex.positions(symbol="BTCUSDT")[0].size == 0
    close = ex.order_history(symbol="BTCUSDT")[0]
    assert (close.stop_order_type, close.trigger_price, close.order_status) == ("StopLoss", D("59900.0"),
                                                                                "Filled")


def test_a_ticker_without_mark_index_or_funding_is_skipped(tmp_path):
    path = tmp_path / "last.jsonl"
    path.write_text(line("tickers.BTCUSDT", "delta", 1, {"symbol": "BTCUSDT", "lastPrice": "60000.0"}) + "\n")
    assert list(read_replay(path)) == []


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


def test_a_bad_number_in_a_ticker_names_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(line("tickers.BTCUSDT", "delta", 1, {"symbol": "BTCUSDT", "markPrice": "6O000"}) + "\n")
    with pytest.raises(ValueError, match=r"bad.jsonl:1"):
        list(read_replay(bad))
