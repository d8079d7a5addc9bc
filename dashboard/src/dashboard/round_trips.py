"""Round trips (flat -> open -> flat on one symbol) rebuilt from the fills execution publishes on exec.events:
entry and exit (size-weighted average prices), gross and net P&L in USDT, fees, holding time, and the
signal behind the entry order.

A trip starts with the first fill on a flat symbol and ends with the fill that makes it flat again; a fill
that flips the position closes one trip and opens the next with the rest (its fee split by quantity).
Only fills in the stream are seen: a position opened before the stream's oldest entry is counted from
the first fill that is there. Trips not closed yet are not listed (the positions show them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

import redis.asyncio as aioredis
from common.bybit.enums import Side
from common.schemas import FillEvent

from dashboard import formatting as fmt
from dashboard.platform_state import exec_events

# The strategy's entry orderLinkIds are s-<symbol>-e-<bar ms> and its signal ids <symbol>-<bar ms>
# (strategy_service.engine); a post-only fallback adds "-t". Manual orders start with m-.
STRATEGY_ENTRY = re.compile(r"^s-.+-e-(\d+)(?:-t)?$")
MANUAL_PREFIX = "m-"


def signal_of(*, symbol: str, order_link_id: str) -> str:
    """The signal that sent an entry order: its signal id, "manual", or the orderLinkId itself."""
    if m := STRATEGY_ENTRY.match(order_link_id):
        return f"{symbol}-{m.group(1)}"
    return "manual" if order_link_id.startswith(MANUAL_PREFIX) else order_link_id


@dataclass
class Trip:
    """One round trip while it is built: sums of what opened and what closed it."""

    symbol: str
    side: str
    opened_ns: int
    open_link: str
    entry_qty: Decimal = Decimal(0)
    entry_value: Decimal = Decimal(0)  # sum of qty x price
    exit_qty: Decimal = Decimal(0)
    exit_value: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    closed_ns: int = 0
    fills: int = 0
    samples: list[str] = field(default_factory=list)  # the exchange's price and size strings, for tick/lot

    def summary(self) -> dict:
        """The finished trip, raw (strings for exact values) and formatted for people."""
        entry, exit_ = self.entry_value / self.entry_qty, self.exit_value / self.exit_qty
        direction = 1 if self.side == Side.BUY else -1
        gross = (exit_ - entry) * self.exit_qty * direction
        net = gross - self.fees
        tick = fmt.step_of(*self.samples[0::2])
        lot = fmt.step_of(*self.samples[1::2])
        held_s = (self.closed_ns - self.opened_ns) / fmt.NS_PER_S
        return {
            "symbol": self.symbol, "side": self.side, "qty": fmt.plain(self.exit_qty),
            "entry_price": fmt.plain(entry), "exit_price": fmt.plain(exit_), "gross_pnl": fmt.plain(gross),
            "fees": fmt.plain(self.fees), "net_pnl": fmt.plain(net),
            "outcome": "win" if net > 0 else "loss" if net < 0 else "even",
            "opened_ns": self.opened_ns, "closed_ns": self.closed_ns, "holding_s": held_s,
            "fills": self.fills, "signal": signal_of(symbol=self.symbol, order_link_id=self.open_link),
            "entry_link": self.open_link,
            "display": {
                "qty": fmt.size(self.exit_qty, lot=lot), "entry_price": fmt.price(entry, tick=tick),
                "exit_price": fmt.price(exit_, tick=tick), "gross_pnl": fmt.usdt(gross),
                "fees": fmt.usdt(-self.fees),
                "net_pnl": fmt.usdt(net), "holding": fmt.duration(held_s), "opened": fmt.utc(self.opened_ns),
                "closed": fmt.utc(self.closed_ns),
            },
        }


def build(fills: list[FillEvent]) -> list[dict]:
    """The closed round trips of `fills` (oldest first in, newest first out)."""
    pos: dict[str, Decimal] = {}
    open_: dict[str, Trip] = {}
    done: list[dict] = []
    for f in fills:
        qty, px, fee = fmt.dec(f.qty), fmt.dec(f.price), fmt.dec(f.fee) or Decimal(0)
        if not qty or px is None:
            continue
        signed = qty if f.side == Side.BUY else -qty
        held = pos.get(f.symbol, Decimal(0))
        trip = open_.get(f.symbol)
        if trip is None or held == 0:
            trip = open_[f.symbol] = Trip(symbol=f.symbol, side=f.side, opened_ns=f.exchange_ts_ns,
                                          open_link=f.order_link_id)
        trip.fills += 1
        trip.samples += [f.price, f.qty]
        if (signed > 0) == (held > 0) or held == 0:
            trip.entry_qty, trip.entry_value = trip.entry_qty + qty, trip.entry_value + qty * px
            trip.fees += fee
            pos[f.symbol] = held + signed
            continue
        closing = min(qty, abs(held))
        trip.exit_qty, trip.exit_value = trip.exit_qty + closing, trip.exit_value + closing * px
        trip.fees += fee * closing / qty
        pos[f.symbol] = held + signed
        if pos[f.symbol] == 0 or (pos[f.symbol] > 0) != (held > 0):
            trip.closed_ns = f.exchange_ts_ns
            done.append(trip.summary())
            del open_[f.symbol]
            rest = qty - closing
            if rest:  # the fill flipped the position: the rest opens the next trip
                open_[f.symbol] = Trip(
                    symbol=f.symbol, side=f.side, opened_ns=f.exchange_ts_ns, open_link=f.order_link_id,
                    entry_qty=rest, entry_value=rest * px, fees=fee * rest / qty, fills=1,
                    samples=[f.price, f.qty])
    return done[::-1]


async def from_stream(redis: aioredis.Redis, *, since_ms: int) -> list[dict]:
    """The closed round trips of the fills on exec.events from `since_ms` on, newest first."""
    fills = [ev async for ev in exec_events(redis, since_ms=since_ms) if isinstance(ev, FillEvent)]
    return build(fills)
