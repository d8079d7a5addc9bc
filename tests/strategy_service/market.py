"""Hand-made market paths for strategy tests: bus messages at exact exchange times."""

from __future__ import annotations

from common.schemas import BookTop, Trade

MS = 1_000_000  # ns per ms


def trade(symbol: str, *, ts_ms: int, price: float, size: float = 1.0, side: str = "Buy", n: int = 0) -> Trade:
    ts = ts_ms * MS
    return Trade(symbol=symbol, trade_id=f"{symbol}-{ts_ms}-{n}", side=side, price=f"{price:.2f}",
                 size=f"{size:.3f}", exchange_ts_ns=ts, received_ts_ns=ts)


def book(symbol: str, *, ts_ms: int, mid: float, half_spread: float = 0.01, bid_size: float = 5.0,
         ask_size: float = 5.0, stale: bool = False) -> BookTop:
    ts = ts_ms * MS
    return BookTop(symbol=symbol, u=ts_ms, bids=[(f"{mid - half_spread:.2f}", f"{bid_size:.3f}")],
                   asks=[(f"{mid + half_spread:.2f}", f"{ask_size:.3f}")], stale=stale,
                   exchange_ts_ns=ts, received_ts_ns=ts)


def path(symbol: str = "BTCUSDT", *, start_ms: int = 1_700_000_000_000, quiet_s: int = 40, pump_s: int = 8,
         base: float = 100.0, step_bps: float = 12.0, stale: bool = False) -> list[Trade | BookTop]:
    """`quiet_s` seconds ranging around `base` (two trades and a book a second), then `pump_s`
    seconds rising `step_bps` a second on heavy buying into bid-heavy books."""
    out: list[Trade | BookTop] = []
    price = base
    for sec in range(quiet_s + pump_s):
        t0 = start_ms + sec * 1000
        if sec < quiet_s:
            price = base + (0.02 if sec % 2 else -0.02)
            out += [book(symbol, ts_ms=t0, mid=base, stale=stale),
                    trade(symbol, ts_ms=t0 + 300, price=price, size=1.0 + (sec % 3) * 0.1, side="Buy"),
                    trade(symbol, ts_ms=t0 + 600, price=price, size=1.0, side="Sell", n=1)]
        else:
            price *= 1 + step_bps / 1e4
            out.append(book(symbol, ts_ms=t0, mid=price, bid_size=9.0 + sec % 2, ask_size=1.0, stale=stale))
            out += [trade(symbol, ts_ms=t0 + 100 * k, price=price, size=3.0, n=k) for k in range(1, 9)]
    return out


def feed(engine, messages) -> list:
    out = []
    for msg in messages:
        out += engine.on_trade(msg) if isinstance(msg, Trade) else engine.on_book(msg)
    return out
