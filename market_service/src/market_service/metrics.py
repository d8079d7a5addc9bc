"""The market service's Prometheus metrics (served by the common exporter)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_IN = Counter("scalper_market_messages_in_total", "Public WS messages received", ["topic"])
BOOK_UPDATES = Counter("scalper_market_book_updates_total", "Book snapshots and deltas applied")
RESYNCS = Counter("scalper_market_resyncs_total", "Book resyncs requested", ["reason"])
GAPS = Counter("scalper_market_gaps_total", "Book deltas whose update id did not follow the last one")
COALESCED = Counter("scalper_market_coalesced_total", "Book updates folded into a later publish")
TRADES_DUPLICATE = Counter("scalper_market_trades_duplicate_total", "Trades dropped as already seen")
TRADE_BACKPRESSURE = Counter(
    "scalper_market_trade_backpressure_total",
    "Times the feed waited for the bus because the trade buffer was full",
)
STALE_BOOKS = Gauge("scalper_market_stale_books", "Books not trustworthy right now")
SYMBOLS = Gauge("scalper_market_symbols", "Symbols in the universe")
# Feed latency per hop, seconds: exchange -> received (includes clock offset), received -> published.
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
FEED_LATENCY = Histogram(
    "scalper_market_feed_latency_seconds", "Feed latency by hop", ["hop"], buckets=_BUCKETS
)
LATENCY_RECEIVE = FEED_LATENCY.labels("exchange_to_received")
LATENCY_PUBLISH = FEED_LATENCY.labels("received_to_published")
