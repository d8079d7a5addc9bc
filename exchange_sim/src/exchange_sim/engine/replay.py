"""Read a JSON Lines recording of Bybit v5 public WebSocket messages back as market events, in file order."""

from __future__ import annotations

from common.bybit.enums import BookMsgType
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import msgspec

from exchange_sim.engine.events import BookUpdate, MarketEvent, TickerUpdate, TradeTick


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


class _Ticker(msgspec.Struct):
    """The fields of a linear ticker the market takes from a recording; a delta omits unchanged ones."""

    symbol: str
    markPrice: str = ""
    indexPrice: str = ""
    fundingRate: str = ""
    nextFundingTime: str = ""


_envelope = msgspec.json.Decoder(_Envelope)
_depth = msgspec.json.Decoder(_Depth)
_trades = msgspec.json.Decoder(list[_Trade])
_ticker = msgspec.json.Decoder(_Ticker)


def read_replay(path: str | Path) -> Iterator[tuple[int, MarketEvent]]:
    """Yield (ts_ms, event) per orderbook message, per trade and per ticker that carries mark, index or
    funding; acks (and tickers with none of those) are skipped.

    A recording may hold several depths of one symbol's book (orderbook.1 and orderbook.50); they are
    separate books on Bybit, so only the first depth seen per symbol is replayed. A delta with u=1 is a
    snapshot: Bybit's book service restarted and the message holds the whole book.
    """
    depths: dict[str, str] = {}  # symbol -> the orderbook topic replayed for it
    with open(path, "rb") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                yield from _events(line, depths)
            except (msgspec.DecodeError, ValueError, ArithmeticError) as e:  # bad JSON, bad number
                raise ValueError(f"{path}:{number}: not a Bybit public message: {e}: {line[:200]!r}") from e


def _events(line: bytes, depths: dict[str, str]) -> Iterator[tuple[int, MarketEvent]]:
    msg = _envelope.decode(line)
    if msg.topic.startswith("orderbook."):
        symbol = msg.topic.rpartition(".")[2]
        if depths.setdefault(symbol, msg.topic) != msg.topic:
            return
        d = _depth.decode(msg.data)
        kind = BookMsgType.SNAPSHOT if msg.type == BookMsgType.SNAPSHOT or d.u == 1 else BookMsgType.DELTA
        yield msg.ts, BookUpdate(symbol=d.s, kind=kind, bids=d.b, asks=d.a, u=d.u, seq=d.seq, ts_ms=msg.ts,
                                 cts_ms=msg.cts or msg.ts)
    elif msg.topic.startswith("publicTrade."):
        for t in _trades.decode(msg.data):
            yield t.T, TradeTick(symbol=t.s, trade_id=t.i, side=t.S, price=t.p, size=t.v, ts_ms=t.T,
                                 tick_direction=t.L, block_trade=t.BT)
    elif msg.topic.startswith("tickers."):
        t = _ticker.decode(msg.data)
        if t.markPrice or t.indexPrice or t.fundingRate or t.nextFundingTime:
            yield msg.ts, TickerUpdate(
                symbol=t.symbol, mark_price=_decimal(t.markPrice), index_price=_decimal(t.indexPrice),
                funding_rate=_decimal(t.fundingRate), ts_ms=msg.ts,
                next_funding_ms=int(t.nextFundingTime) if t.nextFundingTime else None)


def _decimal(text: str) -> Decimal | None:
    return Decimal(text) if text else None
