"""A replayed recording rebuilds, through the simulator and the connector, exactly the book an
independent reference computes from the same messages."""

from __future__ import annotations

import asyncio
import json
import random
from decimal import Decimal

from common.bybit.book import LocalBook
from common.bybit.http import BybitHttp
from common.bybit.ws import BybitWs
from exchange_sim.server.admin import Status

from tests.support import start_sim
from tests.exchange_sim.server.test_connector import until

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
    book = LocalBook("BTCUSDT")
    ws = BybitWs(url=sim.ws_public, on_message=lambda m: book.apply(kind=m.type, data=m.data))
    admin = BybitHttp(base_url=sim.rest, api_key=sim.key, api_secret=sim.secret, time_sync=False)
    await ws.subscribe([f"orderbook.{DEPTH}.BTCUSDT"])
    task = asyncio.create_task(ws.run())
    try:
        status = await admin.get("/admin/status", {}, Status)
        for _ in range(300):  # at most ~30 s for 3 s of recorded time
            if status.replay_done:
                break
            await asyncio.sleep(0.1)
            status = await admin.get("/admin/status", {}, Status)
        assert status.replay_done, "the replay did not finish"
        assert status.replay_events == 301 + 30  # 1 snapshot + 300 deltas + 30 trades
        await until(lambda: tuple(map(as_decimal, book.levels(DEPTH))) == expected, timeout=10,
                    what="the connector's book to equal the reference")
        assert ws.connects == 1  # one connection: no gap forced a resubscribe
    finally:
        await admin.aclose()
        await ws.close()
        await asyncio.wait_for(task, 5)
        sim.stop()
