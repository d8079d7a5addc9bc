"""Per-symbol trading figures over the last N days, from the bus: what the profile update reasons on.

From exec.intents (reference prices), exec.events (orders and fills) and the market summary:
fills, fill ratio (orders that filled over orders that ended), slippage in bps against the intent's
reference price (positive = paid more than expected), win rate of closed round trips (FIFO), and
the current spread in bps.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict, deque
from dataclasses import asdict, dataclass, field

import redis

from common import constants as c
from common.bybit.enums import OrderStatus, Side
from common.schemas import FillEvent, OrderEvent, OrderIntent, decode

ENDED = {OrderStatus.FILLED.value, OrderStatus.CANCELLED.value, OrderStatus.REJECTED.value,
         OrderStatus.DEACTIVATED.value}
_PAGE = 1000


@dataclass
class SymbolFigures:
    """What happened on one symbol; `None` where there was nothing to measure."""

    fills: int = 0
    orders_ended: int = 0
    orders_filled: int = 0
    fill_ratio: float | None = None
    slippage_bps: float | None = None  # median
    round_trips: int = 0
    win_rate: float | None = None
    spread_bps: float | None = None
    _slips: list[float] = field(default_factory=list, repr=False)
    _wins: int = 0

    def public(self) -> dict:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}


def _entries(r: redis.Redis, stream: str, since_ms: int):
    start = f"{since_ms}-0"
    while page := r.xrange(stream, min=start, max="+", count=_PAGE):
        for entry_id, fields in page:
            try:
                yield decode(fields[c.PAYLOAD_FIELD])
            except (KeyError, ValueError, TypeError):
                continue
        last_ms, _, last_seq = page[-1][0].decode().partition("-")
        start = f"{last_ms}-{int(last_seq) + 1}"


def collect(r: redis.Redis, *, days: int) -> dict[str, SymbolFigures]:
    since_ms = int((time.time() - days * 86_400) * 1000)
    reference: dict[str, float] = {}
    for msg in _entries(r, c.EXEC_INTENTS, since_ms):
        if isinstance(msg, OrderIntent) and msg.reference_price:
            reference[msg.intent_id] = float(msg.reference_price)
    figs: dict[str, SymbolFigures] = defaultdict(SymbolFigures)
    lots: dict[str, deque] = defaultdict(deque)  # open (side, qty, price) per symbol, FIFO
    for msg in _entries(r, c.EXEC_EVENTS, since_ms):
        if isinstance(msg, OrderEvent) and msg.status in ENDED:
            f = figs[msg.symbol]
            f.orders_ended += 1
            f.orders_filled += msg.status == OrderStatus.FILLED.value
        elif isinstance(msg, FillEvent):
            f = figs[msg.symbol]
            f.fills += 1
            price, qty = float(msg.price), float(msg.qty)
            ref = reference.get(msg.order_link_id)
            if ref:
                sign = 1 if msg.side == Side.BUY.value else -1
                f._slips.append(sign * (price - ref) / ref * 1e4)
            _match(f, lots[msg.symbol], side=msg.side, qty=qty, price=price)
    summary = r.hgetall(c.MARKET_SUMMARY_KEY)
    for raw_symbol, raw in summary.items():
        spread = json.loads(raw).get("spread_bps")
        if spread is not None:
            figs[raw_symbol.decode()].spread_bps = float(spread)
    for f in figs.values():
        f.fill_ratio = f.orders_filled / f.orders_ended if f.orders_ended else None
        f.slippage_bps = statistics.median(f._slips) if f._slips else None
        f.win_rate = f._wins / f.round_trips if f.round_trips else None
    return dict(figs)


def _match(f: SymbolFigures, lots: deque, *, side: str, qty: float, price: float) -> None:
    """FIFO: a fill against open lots of the other side closes them; each closed lot is a round trip."""
    while qty > 1e-12 and lots and lots[0][0] != side:
        open_side, open_qty, open_price = lots[0]
        closed = min(qty, open_qty)
        pnl = (price - open_price) * closed * (1 if open_side == Side.BUY.value else -1)
        f.round_trips += 1
        f._wins += pnl > 0
        qty -= closed
        if closed < open_qty:
            lots[0] = (open_side, open_qty - closed, open_price)
        else:
            lots.popleft()
    if qty > 1e-12:
        lots.append((side, qty, price))
