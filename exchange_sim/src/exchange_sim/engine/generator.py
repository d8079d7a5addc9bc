"""A seeded market generator: per symbol, a mid price that moves by regime, a 200-level book around it
and taker trade flow, emitted as Bybit-shaped book snapshots/deltas and public trades.

Same seed and symbols, same calls -> the same events: every random draw comes from one
`random.Random` per symbol seeded with the text "seed:symbol" (stable across processes).
"""

from __future__ import annotations

from common.bybit.enums import BookMsgType, Side
import math
import random
import uuid
from dataclasses import dataclass
from decimal import Decimal

from exchange_sim.engine.events import BookUpdate, TradeTick
from exchange_sim.engine.instruments import Instrument

DEPTH = 200  # levels per side, so orderbook.50 and orderbook.200 both have content
LEVEL_GAP = 2e-5  # deeper levels sit on a grid about 0.2 bp of price apart; the best bid/ask are tick-exact
LEVEL_NOTIONAL = 15_000.0  # mean USDT resting per level in a normal book
TRADE_NOTIONAL = 1_500.0  # mean USDT per public trade
RESIZED_PER_STEP = 4  # levels whose size changes per step besides those the move adds or removes
SWEEP_LEVELS = 3  # a taker bigger than the best level walks at most this many levels further


@dataclass(frozen=True)
class Regime:
    """How the market behaves while a regime lasts; drift and vol are fractions of price per step."""

    drift: float  # signed mean return per step (a trend's sign is drawn when it starts)
    vol: float
    trades: float  # mean trades per step
    buy_bias: float  # added to the 0.5 chance that a trade's taker is a buyer (signed with the drift)
    spread: int  # ticks between best bid and best ask
    depth: float  # multiplier on resting size (thin books)
    steps: int  # mean duration in steps
    weight: float  # chance of being picked as the next regime


REGIMES = {  # drift, vol, trades, buy_bias, spread, depth, steps, weight (see Regime)
    "range": Regime(0.0, 4e-5, 1.0, 0.0, 1, 1.0, 600, 0.45),
    "trend": Regime(3e-5, 6e-5, 1.5, 0.1, 1, 1.0, 400, 0.25),
    "pump": Regime(3e-4, 2e-4, 5.0, 0.35, 2, 0.5, 80, 0.08),
    "dump": Regime(-3e-4, 2e-4, 5.0, -0.35, 2, 0.5, 80, 0.08),
    "burst": Regime(0.0, 4e-4, 4.0, 0.0, 3, 0.6, 60, 0.07),  # volatility burst
    "thin": Regime(0.0, 1e-4, 0.3, 0.0, 6, 0.08, 200, 0.07),  # thin book, wide spread, few trades
}


class _SymbolPath:
    """One symbol's state: prices in integer ticks, sizes in integer lots; Decimals only on output."""

    def __init__(self, *, instrument: Instrument, seed: int) -> None:
        self.instrument = instrument
        self.rng = random.Random(f"{seed}:{instrument.symbol}")
        tick = float(instrument.tick_size)
        price = float(instrument.reference_price) * (1 + self.rng.uniform(-0.1, 0.1))
        self.mid = price / tick  # in ticks
        self.gap = max(1, round(price * LEVEL_GAP / tick))
        self.level_lots = LEVEL_NOTIONAL / (price * float(instrument.qty_step))
        self.trade_lots = TRADE_NOTIONAL / (price * float(instrument.qty_step))
        self.bids: dict[int, int] = {}  # tick -> lots
        self.asks: dict[int, int] = {}
        self.changed: tuple[dict[int, int], dict[int, int]] = ({}, {})  # this step's delta (0 = deleted)
        self.best_bid = self.best_ask = 0
        self.bid_grid = self.ask_grid = (1, 0)  # (lo, hi) grid indices of the deeper levels; empty at first
        self.u = 0
        self.seq = self.rng.randrange(10**9, 10**10)
        self.last_trade = 0
        self.regime = "range"
        self.sign = 1
        self.left = self.rng.randint(50, 2 * REGIMES["range"].steps)
        self.anchor = self.mid

    def step(self, now_ms: int) -> list[BookUpdate | TradeTick]:
        if not self.bids:
            self._move(first=True)
            return [self._message(now_ms, BookMsgType.SNAPSHOT, self.bids, self.asks)]
        self.changed = ({}, {})
        events: list[BookUpdate | TradeTick] = self._trades(now_ms)
        self._next_regime()
        self._move(first=False)
        bids, asks = self.changed
        if bids or asks:
            events.append(self._message(now_ms, BookMsgType.DELTA, bids, asks))
        return events

    def _next_regime(self) -> None:
        self.left -= 1
        if self.left > 0:
            return
        names = list(REGIMES)
        self.regime = self.rng.choices(names, weights=[REGIMES[n].weight for n in names])[0]
        self.sign = self.rng.choice((1, -1)) if self.regime == "trend" else 1
        self.left = max(5, int(self.rng.expovariate(1 / REGIMES[self.regime].steps)))
        self.anchor = self.mid

    def _move(self, *, first: bool) -> None:
        """Move the mid, then re-lay the book: levels that left the window go, new ones come, a few resize."""
        r = REGIMES[self.regime]
        if not first:
            ret = self.sign * r.drift + r.vol * self.rng.gauss(0, 1)
            self.mid = max(self.mid * (1 + ret) + 0.01 * (self.anchor - self.mid) * (r.drift == 0),
                           float(20 * self.gap))
        gap = self.gap
        old_bids, old_asks = (self.best_bid, *self.bid_grid), (self.best_ask, *self.ask_grid)
        self.best_bid = math.floor(self.mid - r.spread / 2)
        self.best_ask = self.best_bid + r.spread
        top = -(-self.best_bid // gap) - 1  # highest grid index strictly below the best bid
        low = self.best_ask // gap + 1  # lowest grid index strictly above the best ask
        self.bid_grid = (max(1, top - DEPTH + 2), top)
        self.ask_grid = (low, low + DEPTH - 2)
        self._relay(self.bids, self.changed[0], old_bids, (self.best_bid, *self.bid_grid), r)
        self._relay(self.asks, self.changed[1], old_asks, (self.best_ask, *self.ask_grid), r)
        for _ in range(RESIZED_PER_STEP // 2):  # mostly near the top, where real books churn
            for side, edge, way, changed in ((self.bids, top, -1, self.changed[0]),
                                             (self.asks, low, 1, self.changed[1])):
                t = (edge + way * int(self.rng.random() ** 2 * 40)) * gap
                if t in side:
                    side[t] = changed[t] = self._lots(r)

    def _relay(self, side: dict[int, int], changed: dict[int, int], old: tuple[int, int, int],
               new: tuple[int, int, int], r: Regime) -> None:
        """Move one side from best level + grid indices lo..hi `old` to `new`, touching only what changed."""
        gap = self.gap
        best0, lo0, hi0 = old
        best, lo, hi = new
        left = (*range(lo0, min(hi0, lo - 1) + 1), *range(max(lo0, hi + 1), hi0 + 1))
        for t in [best0] + [g * gap for g in left]:
            if t in side and t != best and not (t % gap == 0 and lo <= t // gap <= hi):
                del side[t]
                changed[t] = 0
        entered = (*range(lo, min(hi, lo0 - 1) + 1), *range(max(lo, hi0 + 1), hi + 1))
        for t in [g * gap for g in entered] + [best]:
            if t not in side:
                side[t] = changed[t] = self._lots(r)

    def _lots(self, r: Regime) -> int:
        return max(1, int(self.level_lots * r.depth * self.rng.lognormvariate(0, 0.7)))

    def _trades(self, now_ms: int) -> list[TradeTick]:
        r = REGIMES[self.regime]
        out = []
        count = int(r.trades) + (self.rng.random() < r.trades % 1)
        for _ in range(count):
            buy = self.rng.random() < 0.5 + self.sign * r.buy_bias
            if buy:
                side, changed, first = self.asks, self.changed[1], self.ask_grid[0]
                levels = (self.best_ask, *(g * self.gap for g in range(first, first + SWEEP_LEVELS)))
            else:
                side, changed, first = self.bids, self.changed[0], self.bid_grid[1]
                levels = (self.best_bid, *(g * self.gap for g in range(first, first - SWEEP_LEVELS, -1)))
            lots = max(1, int(self.rng.expovariate(1 / self.trade_lots)))
            for tick in levels:  # a big taker walks the book: one print per level, as on Bybit
                if tick not in side:
                    break
                take = min(lots, side[tick])
                side[tick] = changed[tick] = max(1, side[tick] - take)  # eaten, a lot is left to refill
                out.append(self._trade(now_ms, Side.BUY if buy else Side.SELL, tick, take))
                lots -= take
                if not lots:
                    break
        return out

    def _trade(self, now_ms: int, side: str, tick: int, lots: int) -> TradeTick:
        direction = ("Plus" if tick > self.last_trade else "Minus") if tick != self.last_trade else None
        if direction is None:
            direction = "ZeroPlus" if side == Side.BUY else "ZeroMinus"
        self.last_trade = tick
        i = self.instrument
        return TradeTick(symbol=i.symbol, trade_id=str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
                         side=side, price=Decimal(tick) * i.tick_size, size=Decimal(lots) * i.qty_step,
                         ts_ms=now_ms, tick_direction=f"{direction}Tick")

    def _message(self, now_ms: int, kind: str, bids: dict[int, int], asks: dict[int, int]) -> BookUpdate:
        self.u += 1
        self.seq += self.rng.randint(1, 40)
        tick, step = self.instrument.tick_size, self.instrument.qty_step

        def levels(side: dict[int, int], reverse: bool) -> list[tuple[Decimal, Decimal]]:
            return [(Decimal(t) * tick, Decimal(n) * step) for t, n in sorted(side.items(), reverse=reverse)]

        return BookUpdate(symbol=self.instrument.symbol, kind=kind, bids=levels(bids, True),
                          asks=levels(asks, False), u=self.u, seq=self.seq, ts_ms=now_ms,
                          cts_ms=max(0, now_ms - self.rng.randint(1, 5)))


class MarketGenerator:
    """Steps every symbol once per call; the first call per symbol yields its book snapshot."""

    def __init__(self, *, symbols: list[str], seed: int, instruments: dict[str, Instrument]) -> None:
        self.paths = {s: _SymbolPath(instrument=instruments[s], seed=seed) for s in symbols}

    def step(self, now_ms: int) -> list[BookUpdate | TradeTick]:
        events: list[BookUpdate | TradeTick] = []
        for path in self.paths.values():
            events += path.step(now_ms)
        return events

    def regime(self, symbol: str) -> str:
        return self.paths[symbol].regime

    def set_regime(self, symbol: str, regime: str, *, steps: int, up: bool = True) -> None:
        """Force `regime` for the next `steps` steps (an operator's "pump BTC now"); then it moves on."""
        if regime not in REGIMES:
            raise ValueError(f"regime {regime!r} is not one of {', '.join(REGIMES)}")
        path = self.paths[symbol]
        path.regime, path.left, path.sign, path.anchor = regime, steps, 1 if up else -1, path.mid
