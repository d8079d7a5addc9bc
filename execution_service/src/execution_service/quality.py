"""Execution quality and per-order latency: Prometheus histograms and per-symbol sums in Redis (lifetime and
per 5-minute bucket).

Latency chain of one order: intent published -> received -> REST sent -> ack -> first private event
-> first fill, plus tick-to-order (the market event behind the intent -> REST sent).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain

import redis.asyncio as aioredis
from prometheus_client import Counter, Histogram

from common.bybit.enums import Side
from common import constants as c
from common.quality import bucket_start, figures
from common.schemas import OrderIntent

_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LATENCY = Histogram("scalper_exec_latency_seconds", "Order latency by stage", ["stage"], buckets=_BUCKETS)
SLIPPAGE = Histogram("scalper_exec_slippage_bps", "Fill price against the intent's reference, adverse > 0",
                     ["symbol"], buckets=(-20, -10, -5, -2, -1, 0, 1, 2, 5, 10, 20, 50))
FILLS = Counter("scalper_exec_fills_total", "Fills by liquidity", ["symbol", "liquidity"])
FEES = Counter("scalper_exec_fees_total", "Fees paid (USDT)", ["symbol"])


@dataclass
class Timing:
    """What we know about one order of ours while it is young (kept in memory only)."""

    symbol: str
    side: str
    intent_qty: float
    reference: float
    published_ns: int
    received_ns: int
    market_ns: int = 0
    sent_ns: int = 0
    ack_ns: int = 0
    first_event_ns: int = 0
    first_fill_ns: int = 0


# KEYS[1] a symbol's lifetime sums, KEYS[2] its current bucket's; ARGV[1] the bucket's TTL (s), then
# figure, amount pairs: each amount added to the figure in both hashes.
_ADD = """
for i = 2, #ARGV, 2 do
  redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('HINCRBYFLOAT', KEYS[2], ARGV[i], ARGV[i + 1])
end
redis.call('EXPIRE', KEYS[2], ARGV[1])
"""


def _s(a: int, b: int) -> float:
    return max(0, b - a) / 1e9


class Quality:
    def __init__(self, redis: aioredis.Redis, clock: Callable[[], float] = time.time) -> None:
        self.r, self.clock = redis, clock  # clock: wall time (s) that picks the quality bucket
        self._add_script = redis.register_script(_ADD)
        self.timings: dict[str, Timing] = {}

    def received(self, intent: OrderIntent) -> None:
        now, published = time.time_ns(), intent.published_ts_ns or intent.created_ts_ns
        self.timings[intent.intent_id] = Timing(
            symbol=intent.symbol, side=intent.side, intent_qty=float(intent.qty),
            reference=float(intent.reference_price or 0), published_ns=published, received_ns=now,
            market_ns=intent.market_received_ts_ns or intent.market_exchange_ts_ns)
        LATENCY.labels("received").observe(_s(published, now))

    def sent(self, link: str) -> None:
        """The intent's first submit: a retry (10006, a split exit's next piece) counts in the ack stage,
        so each stage has one sample per intent."""
        t = self.timings.get(link)
        if t is not None and not t.sent_ns:
            t.sent_ns = time.time_ns()
            LATENCY.labels("sent").observe(_s(t.received_ns, t.sent_ns))
            if t.market_ns:
                LATENCY.labels("tick_to_order").observe(_s(t.market_ns, t.sent_ns))

    async def acked(self, link: str) -> None:
        t = self.timings.get(link)
        if t is not None and t.sent_ns:
            t.ack_ns = time.time_ns()
            LATENCY.labels("ack").observe(_s(t.sent_ns, t.ack_ns))
            await self._add(t.symbol, {"orders": 1.0, "intent_qty": t.intent_qty,
                                       "ack_s": _s(t.sent_ns, t.ack_ns)})

    def event(self, link: str) -> None:
        t = self.timings.get(link)
        if t is not None and t.sent_ns and not t.first_event_ns:
            t.first_event_ns = time.time_ns()
            LATENCY.labels("first_event").observe(_s(t.sent_ns, t.first_event_ns))

    async def fill(self, *, link: str, symbol: str, side: str, price: float, qty: float, fee: float,
                   maker: bool) -> None:
        """One execution: maker/taker share, fees, fill ratio, slippage and time to first fill."""
        liquidity = "maker" if maker else "taker"
        FILLS.labels(symbol, liquidity).inc()
        FEES.labels(symbol).inc(fee)
        sums = {"fills": 1.0, "fill_qty": qty, f"{liquidity}_qty": qty, "fees": fee, "notional": price * qty}
        t = self.timings.get(link)
        if t is not None:
            if t.reference:
                sign = 1 if side == Side.BUY else -1
                bps = sign * (price - t.reference) / t.reference * 1e4
                SLIPPAGE.labels(symbol).observe(bps)
                sums["slippage_bps_qty"] = bps * qty  # divided by matched_qty: qty-weighted slippage
                sums["matched_qty"] = qty
            if not t.first_fill_ns:
                t.first_fill_ns = time.time_ns()
                LATENCY.labels("fill").observe(_s(t.published_ns, t.first_fill_ns))
                sums["first_fills"] = 1.0
                sums["ttff_s"] = _s(t.sent_ns or t.received_ns, t.first_fill_ns)
        await self._add(symbol, sums)

    async def _add(self, symbol: str, sums: dict[str, float]) -> None:
        """Into the symbol's lifetime sums and its current time bucket (which expires on its own): one
        script, not a pipeline of two HINCRBYFLOATs a figure (a fill's ten figures were 21 commands for
        the client to pack and parse, on the loop that sends the orders)."""
        bucket = c.exec_quality_bucket_key(symbol, bucket_start(self.clock()))
        await self._add_script(keys=[c.exec_quality_key(symbol), bucket],
                               args=[c.EXEC_QUALITY_BUCKET_TTL_S, *chain.from_iterable(sums.items())])

    def forget(self, link: str) -> None:
        self.timings.pop(link, None)


async def summary(redis: aioredis.Redis, symbol: str) -> dict[str, float | None]:
    """A symbol's lifetime sums turned into the figures people read (fill ratio, maker share, means)."""
    return figures(await redis.hgetall(c.exec_quality_key(symbol)))
