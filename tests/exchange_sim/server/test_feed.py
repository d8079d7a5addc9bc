"""A replayed recording through the simulator and the connector: exactly the book an independent
reference computes from the same messages; recorded mark prices in order with trades and book; the
tick and lot of an unlisted symbol taken from the recording (or from --instruments)."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
from decimal import Decimal

import pytest
from common.bybit.errors import BybitError
from common.bybit.http import BybitHttp
from common.bybit.rest import BybitRest
from common.bybit.schemas.order import PlaceOrderParams
from common.bybit.schemas.position import TradingStopParams
from common.bybit.ws import BybitWs
from market_service.book import Book
from exchange_sim.server.admin import Status

from tests.support import KEY, SECRET, VENV_BIN, start_sim, wait_until_async

pytestmark = pytest.mark.service

TICK = Decimal("0.1")
DEPTH = 50


def record(path, *, seed: int, deltas: int) -> None:
    """A Bybit-shaped recording: an orderbook.50 snapshot, deltas that update, delete and add levels
    (some deeper than 50, so deletions pull them into view), trades, and a tickers line to skip."""
    rng = random.Random(seed)
    mid = Decimal("65000.0")
    bids = {mid - TICK * (i + 1): Decimal(rng.randint(1, 900)) / 1000 for i in range(70)}
    asks = {mid + TICK * i: Decimal(rng.randint(1, 900)) / 1000 for i in range(70)}
    ts, u = 1_700_000_000_000, 1000
    lines = [{"success": True, "ret_msg": "subscribe", "conn_id": "x", "op": "subscribe"}]

    def msg(kind, b, a):
        return {"topic": "orderbook.50.BTCUSDT", "type": kind, "ts": ts, "cts": ts - 2,
                "data": {"s": "BTCUSDT", "b": [[f"{p:.1f}", f"{s:.3f}"] for p, s in b],
                         "a": [[f"{p:.1f}", f"{s:.3f}"] for p, s in a], "u": u, "seq": u * 7}}

    lines.append(msg("snapshot", sorted(bids.items(), reverse=True)[:DEPTH], sorted(asks.items())[:DEPTH]))
    for n in range(deltas):
        ts, u = ts + 10, u + 1
        changes = {"b": [], "a": []}
        for side, levels, sign in (("b", bids, -1), ("a", asks, 1)):
            for _ in range(rng.randint(1, 4)):
                roll = rng.random()
                if roll < 0.3 and len(levels) > 55:
                    price = rng.choice(sorted(levels, key=lambda p: sign * p)[:DEPTH])
                    del levels[price]
                    changes[side].append((price, Decimal(0)))
                else:
                    offset = rng.randint(1, 90) if roll > 0.6 else rng.randint(1, 20)
                    price = mid - TICK * offset if side == "b" else mid + TICK * (offset - 1)
                    levels[price] = Decimal(rng.randint(1, 900)) / 1000
                    changes[side].append((price, levels[price]))
        lines.append(msg("delta", changes["b"], changes["a"]))
        if n % 10 == 0:
            lines.append({"topic": "publicTrade.BTCUSDT", "type": "snapshot", "ts": ts, "data": [
                {"T": ts, "s": "BTCUSDT", "S": "Buy", "v": "0.010", "p": f"{mid:.1f}", "L": "PlusTick",
                 "i": f"t{n}", "BT": False}]})
        if n % 25 == 0:
            lines.append({"topic": "tickers.BTCUSDT", "type": "delta", "ts": ts,
                          "data": {"symbol": "BTCUSDT", "lastPrice": f"{mid:.1f}"}, "cs": u})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def reference_book(path) -> tuple[list, list]:
    """Top 50 per side from the recording alone: plain dicts, Decimal prices, size 0 deletes."""
    bids, asks = {}, {}
    for line in path.read_text().splitlines():
        m = json.loads(line)
        if not m.get("topic", "").startswith("orderbook."):
            continue
        if m["type"] == "snapshot":
            bids, asks = {}, {}
        for side, levels in ((bids, m["data"]["b"]), (asks, m["data"]["a"])):
            for p, s in levels:
                if Decimal(s) == 0:
                    side.pop(Decimal(p), None)
                else:
                    side[Decimal(p)] = Decimal(s)
    return sorted(bids.items(), reverse=True)[:DEPTH], sorted(asks.items())[:DEPTH]


def as_decimal(levels):
    return [(Decimal(p), Decimal(s)) for p, s in levels]


async def test_replayed_book_matches_an_independent_reference(tmp_path):
    path = tmp_path / "btc.jsonl"
    record(path, seed=11, deltas=300)  # 3 s of recorded time
    expected = reference_book(path)
    sim = start_sim("--replay", str(path), "--tick-ms", "20", "--symbols", "BTCUSDT", tmp_path=tmp_path)
    book = Book("BTCUSDT")
    ws = BybitWs(url=sim.ws_public, on_message=lambda m: book.apply(kind=m.type, data=m.data, ts_ms=m.ts))
    admin = BybitHttp(base_url=sim.rest, api_key=sim.key, api_secret=sim.secret, time_sync=False)
    await ws.subscribe([f"orderbook.{DEPTH}.BTCUSDT"])
    task = asyncio.create_task(ws.run())
    try:
        status = await wait_until_async(lambda: replay_done(admin), timeout=30, interval=0.1,
                                        what="the replay to finish")  # 3 s of recorded time
        assert status.replay_events == 301 + 30  # 1 snapshot + 300 deltas + 30 trades
        await wait_until_async(lambda: tuple(map(as_decimal, book.levels(DEPTH))) == expected, timeout=10,
                               what="the connector's book to equal the reference")
        assert ws.connects == 1  # one connection: no gap forced a resubscribe
    finally:
        await admin.aclose()
        await ws.close()
        await asyncio.wait_for(task, 5)
        sim.stop()


T0 = 1_700_000_000_000
LEAD_MS = 4_000  # recorded time before the sequence under test, for the test to connect and subscribe


def write_lines(path, lines: list[dict]) -> None:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def book_msg(symbol: str, ts: int, u: int, bids: list, asks: list) -> dict:
    return {"topic": f"orderbook.50.{symbol}", "type": "snapshot" if u == 1 else "delta", "ts": ts,
            "cts": ts - 1, "data": {"s": symbol, "b": bids, "a": asks, "u": u, "seq": u * 3}}


def trade_msg(symbol: str, ts: int, side: str, price: str, size: str) -> dict:
    trade = {"T": ts, "s": symbol, "S": side, "v": size, "p": price, "L": "PlusTick", "i": f"t{ts}",
             "BT": False}
    return {"topic": f"publicTrade.{symbol}", "type": "snapshot", "ts": ts, "data": [trade]}


def ticker_msg(symbol: str, ts: int, kind: str, **fields: str) -> dict:
    return {"topic": f"tickers.{symbol}", "type": kind, "ts": ts, "cs": ts,
            "data": {"symbol": symbol, **fields}}


async def replay_done(admin: BybitHttp) -> Status | None:
    """The simulator's status once its replay is done, else None."""
    status = await admin.get("/admin/status", {}, Status)
    return status if status.replay_done else None


async def wait_for_replay_end(sim, poll=None) -> None:
    """Poll the admin status until the replay is done (at most ~30 s), calling `poll` each round."""
    admin = BybitHttp(base_url=sim.rest, api_key=sim.key, api_secret=sim.secret, time_sync=False)
    async def done() -> Status | None:
        if poll is not None:
            await poll()
        return await replay_done(admin)

    try:
        await wait_until_async(done, timeout=30, interval=0.1, what="the replay to finish")
    finally:
        await admin.aclose()


async def test_recorded_mark_price_reaches_ws_and_rest_in_order_with_trades_and_book(tmp_path):
    """XRPUSDT (unlisted): the mark a recording gives goes out on tickers.XRPUSDT between the trades and
    book deltas it sits between in the file, and /v5/market/tickers shows it; the book's mid, which
    moves meanwhile, no longer sets the mark."""
    t = T0 + LEAD_MS
    path = tmp_path / "xrp.jsonl"
    write_lines(path, [
        book_msg("XRPUSDT", T0, 1, [["0.5120", "1000"], ["0.5119", "2000"]],
                 [["0.5126", "1000"], ["0.5127", "2000"]]),  # mid 0.5123 is the mark until a ticker says
        ticker_msg("XRPUSDT", t, "snapshot", markPrice="0.5125", indexPrice="0.5124", fundingRate="0.0002",
                   nextFundingTime=str(T0 + 3_600_000), lastPrice="0.5126"),
        trade_msg("XRPUSDT", t + 300, "Buy", "0.5126", "10"),
        ticker_msg("XRPUSDT", t + 600, "delta", markPrice="0.5130"),
        book_msg("XRPUSDT", t + 900, 2, [["0.5128", "500"]], []),  # the mid would be 0.5127
        ticker_msg("XRPUSDT", t + 1200, "delta", markPrice="0.5131", fundingRate="0.00015"),
        trade_msg("XRPUSDT", t + 1500, "Sell", "0.5128", "7"),
    ])
    sim = start_sim("--replay", str(path), "--tick-ms", "20", "--symbols", "XRPUSDT", tmp_path=tmp_path)
    seen: list[tuple] = []

    def on_message(m):
        if m.topic.startswith("tickers") and m.type == "delta" and m.data.markPrice:
            seen.append(("mark", m.data.markPrice))
        elif m.topic.startswith("publicTrade"):
            seen.extend(("trade", x.p) for x in m.data)
        elif m.topic.startswith("orderbook") and m.type == "delta":
            seen.append(("book", m.data.b, m.data.a))

    ws = BybitWs(url=sim.ws_public, on_message=on_message)
    await ws.subscribe(["orderbook.50.XRPUSDT", "publicTrade.XRPUSDT", "tickers.XRPUSDT"])
    task = asyncio.create_task(ws.run())
    r = BybitRest(BybitHttp(base_url=sim.rest))
    marks: list[str] = []

    async def poll_rest():
        mark = (await r.tickers(symbol="XRPUSDT"))[0].markPrice
        if not marks or marks[-1] != mark:
            marks.append(mark)

    try:
        await asyncio.wait_for(ws.connected.wait(), 10)
        await wait_for_replay_end(sim, poll_rest)
        await wait_until_async(lambda: len(seen) >= 6, timeout=10, what="the recorded sequence on the socket")
        assert seen == [("mark", "0.5125"), ("trade", "0.5126"), ("mark", "0.5130"),
                        ("book", [("0.5128", "500")], []), ("mark", "0.5131"), ("trade", "0.5128")], (
            "out of order, or the test subscribed after the recorded sequence began")
        ticker = (await r.tickers(symbol="XRPUSDT"))[0]
        assert (ticker.markPrice, ticker.indexPrice, ticker.fundingRate, ticker.nextFundingTime) == (
            "0.5131", "0.5124", "0.00015", str(T0 + 3_600_000))
        assert (ticker.lastPrice, ticker.bid1Price) == ("0.5128", "0.5128")
        # polled REST saw the marks in recorded order, never a mid the book implied (0.5127)
        order = ["0.5123", "0.5125", "0.5130", "0.5131"]
        assert set(marks) <= set(order), marks
        assert marks == sorted(marks, key=order.index) and marks[-1] == "0.5131"
    finally:
        await r.http.aclose()
        await ws.close()
        await asyncio.wait_for(task, 5)
        sim.stop()


def pepe_recording(path) -> None:
    """1000PEPEUSDT, unlisted, at prices of 7 decimals and sizes in whole coins."""
    write_lines(path, [
        book_msg("1000PEPEUSDT", T0, 1, [["0.0000123", "90000000"], ["0.0000122", "50000000"]],
                 [["0.0000124", "90000000"], ["0.0000125", "50000000"]]),
        trade_msg("1000PEPEUSDT", T0 + 10, "Buy", "0.0000124", "1200000"),
    ])


async def test_an_unlisted_symbol_gets_the_recordings_tick_and_its_tp_sl_keep_their_precision(tmp_path):
    path = tmp_path / "pepe.jsonl"
    pepe_recording(path)
    sim = start_sim("--replay", str(path), "--symbols", "BTCUSDT", tmp_path=tmp_path)
    r = BybitRest(BybitHttp(base_url=sim.rest, api_key=sim.key, api_secret=sim.secret))
    try:
        listed = {i.symbol: i for i in await r.instruments()}
        assert set(listed) == {"BTCUSDT", "1000PEPEUSDT"}  # the recording's symbols trade besides --symbols
        pepe = listed["1000PEPEUSDT"]
        assert (pepe.priceFilter.tickSize, pepe.priceScale, pepe.lotSizeFilter.qtyStep) == (
            "0.0000001", "7", "1")
        await wait_for_replay_end(sim)
        await r.place_order(PlaceOrderParams(category="linear", symbol="1000PEPEUSDT", side="Buy",
                                             orderType="Market", qty="1000000", takeProfit="0.0000131",
                                             stopLoss="0.0000117"))
        pos = (await r.positions(symbol="1000PEPEUSDT"))[0]
        assert (pos.size, pos.takeProfit, pos.stopLoss) == ("1000000", "0.0000131", "0.0000117")
        await r.trading_stop(TradingStopParams(category="linear", symbol="1000PEPEUSDT",
                                               positionIdx=0, takeProfit="0.0000133"))
        assert (await r.positions(symbol="1000PEPEUSDT"))[0].takeProfit == "0.0000133"
        with pytest.raises(BybitError) as e:
            await r.trading_stop(TradingStopParams(category="linear", symbol="1000PEPEUSDT",
                                                   positionIdx=0, takeProfit="0.00001335"))
        assert e.value.code == 170134  # finer than the recorded tick
    finally:
        await r.http.aclose()
        sim.stop()


async def test_instruments_file_overrides_the_recorded_filters(tmp_path):
    path = tmp_path / "pepe.jsonl"
    pepe_recording(path)
    info = {"symbol": "1000PEPEUSDT", "contractType": "LinearPerpetual", "status": "Trading",
            "baseCoin": "1000PEPE", "quoteCoin": "USDT", "settleCoin": "USDT", "launchTime": "1683705600000",
            "priceScale": "7", "newField": {"bybit": "adds fields"},
            "leverageFilter": {"minLeverage": "1", "maxLeverage": "25.00", "leverageStep": "0.01"},
            "priceFilter": {"minPrice": "0.0000001", "maxPrice": "1.9999998", "tickSize": "0.0000001"},
            "lotSizeFilter": {"maxOrderQty": "80000000", "minOrderQty": "100", "qtyStep": "100",
                              "minNotionalValue": "5"}}
    listing = tmp_path / "instruments.json"
    listing.write_text(json.dumps({"retCode": 0, "retMsg": "OK", "result": {"category": "linear",
                                                                           "list": [info]}}))
    sim = start_sim("--replay", str(path), "--instruments", str(listing), tmp_path=tmp_path)
    r = BybitRest(BybitHttp(base_url=sim.rest, api_key=sim.key, api_secret=sim.secret))
    try:
        pepe = (await r.instruments(symbol="1000PEPEUSDT"))[0]
        lots = pepe.lotSizeFilter
        assert (lots.qtyStep, lots.minOrderQty, pepe.leverageFilter.maxLeverage) == ("100", "100", "25.00")
        await wait_for_replay_end(sim)
        with pytest.raises(BybitError) as e:
            await r.place_order(PlaceOrderParams(category="linear", symbol="1000PEPEUSDT", side="Buy",
                                                 orderType="Market", qty="1000050"))
        assert e.value.code == 170137  # qty off the listed step of 100
    finally:
        await r.http.aclose()
        sim.stop()


def test_a_bad_instruments_file_is_refused_naming_it(tmp_path):
    listing = tmp_path / "instruments.json"
    listing.write_text(json.dumps({"result": {"list": [{"symbol": "XRPUSDT"}]}}))
    done = subprocess.run([str(VENV_BIN / "scalper-exchange-sim"), "--api-key", KEY, "--api-secret", SECRET,
                           "--instruments", str(listing)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "--instruments" in done.stderr and "instruments.json" in done.stderr
    assert "contractType" in done.stderr  # the missing field
