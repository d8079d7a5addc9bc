"""One symbol's public market state: book, prices (last, mark, index), funding, trades, candles, ticker."""

from __future__ import annotations

from common.bybit.enums import BookMsgType, TriggerBy
from collections import deque
from decimal import Decimal

from exchange_sim.engine.book import Book
from exchange_sim.engine.events import BookUpdate, TickerUpdate, TradeTick
from exchange_sim.engine.instruments import Instrument
from exchange_sim.engine.klines import Candles

RECENT_TRADES = 1000  # Bybit's /v5/market/recent-trade returns at most 1000
FUNDING_INTERVAL_MS = 8 * 3600 * 1000
FUNDING_RATE = Decimal("0.0001")  # a flat 0.01% every 8 h, Bybit's base rate
ZERO = Decimal(0)


class Market:
    """What the public feed has said about one symbol so far."""

    __slots__ = ("instrument", "book", "last_price", "mark_price", "mark_recorded", "index_price",
                 "funding_rate", "next_funding_ms", "trades", "candles", "now_ms")

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.book = Book()
        self.last_price = ZERO
        self.mark_price = ZERO
        self.mark_recorded = False  # a replayed ticker gave the mark: mid and last no longer move it
        self.index_price: Decimal | None = None  # None: the index follows the mark
        self.funding_rate = FUNDING_RATE
        self.next_funding_ms: int | None = None  # None: the next 8-hour boundary
        self.trades: deque[TradeTick] = deque(maxlen=RECENT_TRADES)
        self.candles = Candles()
        self.now_ms = 0

    def apply_book(self, update: BookUpdate) -> None:
        """Apply a snapshot or delta and move the mark price to the new mid (unless a ticker gives it)."""
        if update.kind == BookMsgType.SNAPSHOT:
            self.book.replace(update.bids, update.asks)
        else:
            self.book.patch(update.bids, update.asks)
        self.book.u, self.book.seq, self.book.ts_ms = update.u, update.seq, update.ts_ms
        self.now_ms = max(self.now_ms, update.ts_ms)
        if self.mark_recorded:
            return
        bid, ask = self.book.best_bid(), self.book.best_ask()
        if bid and ask:
            tick = self.instrument.tick_size
            self.mark_price = ((bid[0] + ask[0]) / 2 / tick).to_integral_value() * tick
        elif not self.mark_price:
            self.mark_price = self.last_price

    def apply_trade(self, trade: TradeTick) -> None:
        """Record a public trade: last price, recent trades, candles."""
        self.last_price = trade.price
        if not ((self.book.bids and self.book.asks) or self.mark_recorded):  # trades-only replay: mark = last
            self.mark_price = trade.price
        self.trades.append(trade)
        self.candles.add(ts_ms=trade.ts_ms, price=trade.price, size=trade.size)
        self.now_ms = max(self.now_ms, trade.ts_ms)

    def apply_ticker(self, update: TickerUpdate) -> None:
        """Take a recorded ticker's mark, index and funding as the market's own, field by field."""
        if update.mark_price is not None:
            self.mark_price, self.mark_recorded = update.mark_price, True
        if update.index_price is not None:
            self.index_price = update.index_price
        if update.funding_rate is not None:
            self.funding_rate = update.funding_rate
        if update.next_funding_ms is not None:
            self.next_funding_ms = update.next_funding_ms
        self.now_ms = max(self.now_ms, update.ts_ms)

    def price(self, trigger_by: str) -> Decimal:
        """The price a trigger of type `trigger_by` (LastPrice, MarkPrice, IndexPrice) watches."""
        if trigger_by == TriggerBy.MARK_PRICE:
            return self.mark_price
        if trigger_by == TriggerBy.INDEX_PRICE:
            return self.mark_price if self.index_price is None else self.index_price
        return self.last_price or self.mark_price

    def ticker(self) -> dict[str, Decimal | int | str]:
        """The fields of Bybit's linear ticker, 24h figures taken from the one-minute candles."""
        now = self.now_ms
        last = self.last_price or self.mark_price
        day = self.candles.window(now)
        prev = day.open_24h if day else last
        volume = day.volume if day else ZERO
        bid, ask = self.book.best_bid(), self.book.best_ask()
        step = self.instrument.qty_step
        return {
            "symbol": self.instrument.symbol,
            "lastPrice": last,
            "markPrice": self.mark_price,
            "indexPrice": self.mark_price if self.index_price is None else self.index_price,
            "bid1Price": bid[0] if bid else ZERO,
            "bid1Size": bid[1] if bid else ZERO,
            "ask1Price": ask[0] if ask else ZERO,
            "ask1Size": ask[1] if ask else ZERO,
            "prevPrice24h": prev,
            "price24hPcnt": ((last - prev) / prev).quantize(Decimal("0.000001")) if prev else ZERO,
            "highPrice24h": day.high if day else last,
            "lowPrice24h": day.low if day else last,
            "prevPrice1h": (day.open_1h if day else ZERO) or prev,
            "volume24h": volume,
            "turnover24h": (day.turnover if day else ZERO).quantize(Decimal("0.0001")),
            "openInterest": (volume * Decimal("0.4") / step).to_integral_value() * step,
            "openInterestValue": (volume * Decimal("0.4") * self.mark_price).quantize(Decimal("0.01")),
            "fundingRate": self.funding_rate,
            "nextFundingTime": self.next_funding_ms or now - now % FUNDING_INTERVAL_MS + FUNDING_INTERVAL_MS,
            "deliveryTime": 0,
        }
