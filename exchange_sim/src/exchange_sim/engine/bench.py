"""Throughput of the engine's hot paths, for bench scripts (the one engine module that reads a clock).

`python -m exchange_sim.engine.bench` prints the figures; `bench/exchange_sim.py` may import `measure`.
"""

from __future__ import annotations

from common.bybit.enums import BookMsgType, OrderType, Side
import json
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from exchange_sim.engine.events import BookUpdate, TradeTick
from exchange_sim.engine.exchange import Exchange
from exchange_sim.engine.generator import MarketGenerator
from exchange_sim.engine.replay import read_replay

T0 = 1_700_000_000_000


def measure(*, symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT", "SOLUSDT"), steps: int = 3000,
            seed: int = 1) -> dict[str, float]:
    """Events per second: generating, applying (with 20 resting orders and an open position), replaying."""
    ex = Exchange(symbols=list(symbols), balance=Decimal(1_000_000))
    gen = MarketGenerator(symbols=list(symbols), seed=seed, instruments=ex.instruments)
    start = time.perf_counter()
    events = [e for i in range(steps) for e in gen.step(T0 + 100 * i)]
    generated = time.perf_counter() - start

    for event in events[: len(symbols)]:
        ex.apply(event)
    for symbol in symbols:
        bids = ex.book(symbol, 10)[0]
        step = ex.instruments[symbol].min_qty
        ex.place_order(symbol=symbol, side=Side.BUY, order_type=OrderType.MARKET, qty=step * 10, now_ms=T0)
        for price, _ in bids[1:8]:
            ex.place_order(symbol=symbol, side=Side.BUY, order_type=OrderType.LIMIT, qty=step * 10, price=price,
                           now_ms=T0)
    start = time.perf_counter()
    for event in events[len(symbols):]:
        ex.apply(event)
    applied = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "recording.jsonl"
        path.write_text("".join(_line(e) + "\n" for e in events))
        replayer = Exchange(symbols=list(symbols), balance=Decimal(1_000_000))
        start = time.perf_counter()
        count = 0
        for _, event in read_replay(path):
            replayer.apply(event)
            count += 1
        replayed = time.perf_counter() - start
    return {
        "events": len(events),
        "generate_events_per_s": len(events) / generated,
        "apply_events_per_s": (len(events) - len(symbols)) / applied,
        "replay_events_per_s": count / replayed,
    }


def _line(event: BookUpdate | TradeTick) -> str:
    """The event as the raw Bybit public message it stands for."""
    if isinstance(event, TradeTick):
        data = [{"T": event.ts_ms, "s": event.symbol, "S": event.side, "v": str(event.size),
                 "p": str(event.price), "L": event.tick_direction, "i": event.trade_id,
                 "BT": event.block_trade}]
        return json.dumps({"topic": f"publicTrade.{event.symbol}", "type": BookMsgType.SNAPSHOT, "ts": event.ts_ms,
                           "data": data})
    data = {"s": event.symbol, "b": [[str(p), str(s)] for p, s in event.bids],
            "a": [[str(p), str(s)] for p, s in event.asks], "u": event.u, "seq": event.seq}
    return json.dumps({"topic": f"orderbook.200.{event.symbol}", "type": event.kind, "ts": event.ts_ms,
                       "data": data, "cts": event.cts_ms})


if __name__ == "__main__":
    for name, value in measure().items():
        print(f"{name:>24}: {value:,.0f}")
