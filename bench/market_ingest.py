"""The market service's ingest path against a parse-only baseline, in the same run.

    uv run python bench/market_ingest.py [--runs 3] [--steps 6000] [--symbols 5] [--profile]

A seeded recording of Bybit public frames (orderbook.50 snapshot + deltas, publicTrade; see
tests/market_service/recording.py) is pushed, in one process on uvloop, through the real path:
`common.bybit.ws.parse` -> `Market.on_message` (book with Bybit's rules, trade flow, dedup) ->
`Publisher` (coalesced books with microstructure, every trade, pipelined XADDs into a real
redis-server it starts on a free port). Frames arrive in bursts of BURST, then the loop yields, as
a socket read does; the publisher drains concurrently. The baseline is plain `msgspec.json.decode`
of the same frames; a middle row runs the feed side alone (publisher collecting, no bus) to show
our own share. Rounds interleave; the table shows medians and the ratio. `--profile` prints
where the time of one full-path round goes (cProfile, by own time).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

import msgspec
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common.bus import Bus  # noqa: E402
from common.bybit.ws import parse  # noqa: E402
from common.health import Progress  # noqa: E402
from market_service.feed import Market  # noqa: E402
from tests.market_service.recording import session  # noqa: E402
from tests.support import RedisServer  # noqa: E402

BURST = 100  # frames handled per loop turn (one socket read's worth)
TARGET = 50_000  # messages/s per process (DESIGN.md section 12)


def parse_only(lines: list[bytes]) -> float:
    decode = msgspec.json.decode
    t0 = time.perf_counter()
    for line in lines:
        decode(line)
    return time.perf_counter() - t0


def market_for(bus: Bus | None, symbols: list[str]) -> Market:
    """The service's Market and Publisher with its default windows and levels."""
    market = Market.publishing_to(bus, resync=lambda s, r: None, flow_window_s=60, vol_window_s=60,
                                  imbalance_levels=5, publish_levels=10)
    for s in symbols:
        market.add(s)
    return market


def feed_only(lines: list[bytes], symbols: list[str]) -> float:
    """parse -> book -> trade flow, with the publisher only collecting (no bus): our own share."""
    market = market_for(None, symbols)
    on_message = market.on_message
    t0 = time.perf_counter()
    for line in lines:
        on_message(parse(line))
    return time.perf_counter() - t0


async def full_path(lines: list[bytes], symbols: list[str], url: str) -> tuple[float, dict]:
    bus = Bus(url, service="bench", maxlen=100_000)
    await bus.redis.flushall()
    market = market_for(bus, symbols)
    publisher = market.publisher
    task = asyncio.create_task(publisher.run(Progress("publisher")))
    on_message = market.on_message
    t0 = time.perf_counter()
    for i in range(0, len(lines), BURST):
        for line in lines[i : i + BURST]:
            on_message(parse(line))
        if publisher.full:
            await publisher.wait_room()
        await asyncio.sleep(0)
    while publisher._trades or publisher._dirty:  # drained: everything is in Redis
        await asyncio.sleep(0.001)
    await asyncio.sleep(0.001)
    elapsed = time.perf_counter() - t0
    task.cancel()
    stats = {
        "books_published": publisher.published_books,
        "trades_published": publisher.published_trades,
        "book_msgs": sum(st.book.updates for st in market.symbols.values()),
        "stale": len(market.stale()),
    }
    await bus.close()
    return elapsed, stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--steps", type=int, default=6000, help="book messages per symbol in the recording")
    ap.add_argument("--symbols", type=int, default=5)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    symbols = [f"SYM{n}USDT" for n in range(args.symbols)]
    lines = session(symbols=symbols, steps=args.steps, seed=5)
    n = len(lines)
    print(f"recording: {n} frames ({args.symbols} symbols x {args.steps} book messages + trade frames)")
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp)).start()
        try:
            base, feed, full, stats = [], [], [], {}
            for _ in range(args.runs):
                base.append(n / parse_only(lines))
                feed.append(n / feed_only(lines, symbols))
                elapsed, stats = uvloop.run(full_path(lines, symbols, server.url))
                full.append(n / elapsed)
            b, f = statistics.median(base), statistics.median(full)
            print(f"{'path':<28}{'msgs/s (median)':>18}  runs")
            for name, runs in (
                ("parse only (msgspec)", base),
                ("parse->book (no bus)", feed),
                ("parse->book->features->bus", full),
            ):
                print(f"{name:<28}{statistics.median(runs):>18,.0f}  {[round(x) for x in runs]}")
            print(
                f"ratio full / parse-only: {f / b:.3f}; target {TARGET:,} msgs/s: "
                f"{'MET' if f >= TARGET else 'MISSED'} ({f / TARGET:.2f}x)"
            )
            print(f"last round: {stats}")
            if args.profile:
                prof = cProfile.Profile()
                prof.enable()
                uvloop.run(full_path(lines, symbols, server.url))
                prof.disable()
                out = io.StringIO()
                pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(18)
                print(out.getvalue())
        finally:
            server.stop()


if __name__ == "__main__":
    main()
