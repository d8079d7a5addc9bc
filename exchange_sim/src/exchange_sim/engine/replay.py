"""Read a JSON Lines recording of Bybit v5 public WebSocket messages back as market events, in file order."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import msgspec

from exchange_sim.engine.events import BookUpdate, TradeTick


class _Envelope(msgspec.Struct):
    topic: str = ""  # absent on op acks ({"success":true,"op":"subscribe",...}), which are skipped
    type: str = ""
    ts: int = 0
    cts: int = 0  # matching-engine time (orderbook only)
    data: msgspec.Raw = msgspec.Raw(b"null")


class _Depth(msgspec.Struct):
    s: str
    b: list[tuple[Decimal, Decimal]]
    a: list[tuple[Decimal, Decimal]]
    u: int
    seq: int = 0


class _Trade(msgspec.Struct):
    T: int  # trade time
    s: str
    S: str  # taker side
    v: Decimal
    p: Decimal
    i: str
    L: str = ""  # tick direction
    BT: bool = False  # block trade


_envelope = msgspec.json.Decoder(_Envelope)
_depth = msgspec.json.Decoder(_Depth)
_trades = msgspec.json.Decoder(list[_Trade])


def read_replay(path: str | Path) -> Iterator[tuple[int, BookUpdate | TradeTick]]:
    """Yield (ts_ms, event) per orderbook message and per trade; tickers and acks are skipped.

    A recording may hold several depths of one symbol's book (orderbook.1 and orderbook.50); they are
    separate books on Bybit, so only the first depth seen per symbol is replayed.
    """
    depths: dict[str, str] = {}  # symbol -> the orderbook topic replayed for it
    with open(path, "rb") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                yield from _events(line, depths)
            except msgspec.DecodeError as e:
                raise ValueError(f"{path}:{number}: not a Bybit public message: {e}: {line[:200]!r}") from e


def _events(line: bytes, depths: dict[str, str]) -> Iterator[tuple[int, BookUpdate | TradeTick]]:
    msg = _envelope.decode(line)
    if msg.topic.startswith("orderbook."):
        symbol = msg.topic.rpartition(".")[2]
        if depths.setdefault(symbol, msg.topic) != msg.topic:
            return
        d = _depth.decode(msg.data)
        kind = "snapshot" if msg.type == "snapshot" else "delta"
        yield msg.ts, BookUpdate(symbol=d.s, kind=kind, bids=d.b, asks=d.a, u=d.u, seq=d.seq, ts_ms=msg.ts,
                                 cts_ms=msg.cts or msg.ts)
    elif msg.topic.startswith("publicTrade."):
        for t in _trades.decode(msg.data):
            yield t.T, TradeTick(symbol=t.s, trade_id=t.i, side=t.S, price=t.p, size=t.v, ts_ms=t.T,
                                 tick_direction=t.L, block_trade=t.BT)
