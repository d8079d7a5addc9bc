"""The market service's ingest path against a parse-only baseline, in the same run.

    uv run python bench/market_ingest.py [--runs 3] [--steps 6000] [--symbols 5] [--profile]
    uv run python bench/market_ingest.py --from recording.jsonl [--runs 3] [--profile]

A seeded recording of Bybit public frames (orderbook.50 snapshot + deltas, publicTrade; see
tests/market_service/recording.py), or with `--from` a real one in the format the simulator's
`--replay` reads (raw Bybit public WS frames, one JSON per line; of each symbol's book only the first
depth seen is kept, as the simulator does; tickers, klines and op replies are left out, as the
service never subscribes to them), is pushed, in one process on uvloop, through the real path:
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
from typing import NamedTuple

import msgspec
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common.bus import Bus  # noqa: E402
from common.bybit.ws import parse  # noqa: E402
from common.health import Progress  # noqa: E402
from market_service.market import Market  # noqa: E402
from tests.market_service.recording import DEPTH, session  # noqa: E402
from tests.support import RedisServer  # noqa: E402

BURST = 100  # frames handled per loop turn (one socket read's worth)
TARGET = 150_000  # messages/s per process (DESIGN.md section 12)


class Timing(NamedTuple):
    wall: float  # seconds, perf_counter
    cpu: float  # seconds of this process's CPU (process_time): what moves least with the machine's load


def parse_only(lines: list[bytes]) -> Timing:
    decode = msgspec.json.decode
    t0, c0 = time.perf_counter(), time.process_time()
    for line in lines:
        decode(line)
    return Timing(time.perf_counter() - t0, time.process_time() - c0)


class Recording(NamedTuple):
    lines: list[bytes]  # the frames the service would receive, in file order
    symbols: list[str]
    depth: int  # the orderbook topic's depth (the deepest, should symbols differ)
    left_out: int  # frames of other topics, and op replies


class _Topic(msgspec.Struct):
    topic: str = ""


def synthetic(*, symbols: int, steps: int) -> Recording:
    names = [f"SYM{n}USDT" for n in range(symbols)]
    return Recording(session(symbols=names, steps=steps, seed=5), names, DEPTH, 0)


def recorded(path: Path) -> Recording:
    """The orderbook and publicTrade frames of a recording; ValueError names a line that is not JSON."""
    topic_of = msgspec.json.Decoder(_Topic).decode
    lines: list[bytes] = []
    books: dict[str, str] = {}  # symbol -> the orderbook topic kept for it
    symbols: dict[str, None] = {}
    left_out = 0
    with path.open("rb") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                topic = topic_of(line).topic
            except msgspec.DecodeError as e:
                raise ValueError(f"{path}:{number}: not a Bybit public frame: {e}") from None
            kind, _, symbol = topic.rpartition(".")
            if kind.startswith("orderbook.") and books.setdefault(symbol, topic) == topic:
                symbols[symbol] = None
            elif kind == "publicTrade":
                symbols[symbol] = None
            else:
                left_out += 1
                continue
            lines.append(line)
    depth = max((int(t.split(".")[1]) for t in books.values()), default=DEPTH)
    return Recording(lines, list(symbols), depth, left_out)


def market_for(bus: Bus | None, rec: Recording) -> Market:
    """The service's Market and Publisher with its default windows and levels."""
    market = Market.publishing_to(bus, resync=lambda s, r: None, flow_window_s=60, vol_window_s=60,
                                  imbalance_levels=5, publish_levels=10, book_depth=rec.depth)
    for s in rec.symbols:
        market.add(s)
    return market


def feed_only(rec: Recording) -> Timing:
    """parse -> book -> trade flow, with the publisher only collecting (no bus): our own share."""
    market = market_for(None, rec)
    on_message = market.on_message
    t0, c0 = time.perf_counter(), time.process_time()
    for line in rec.lines:
        on_message(parse(line))
    return Timing(time.perf_counter() - t0, time.process_time() - c0)


async def full_path(rec: Recording, url: str) -> tuple[Timing, dict]:
    lines = rec.lines
    bus = Bus(url, service="bench", maxlen=100_000)
    await bus.redis.flushall()
    market = market_for(bus, rec)
    publisher = market.publisher
    task = asyncio.create_task(publisher.run(Progress("publisher")))
    on_message = market.on_message
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(0, len(lines), BURST):
        for line in lines[i : i + BURST]:
            on_message(parse(line))
        if publisher.full:
            await publisher.wait_room()
        await asyncio.sleep(0)
    publisher.stop()  # as the service stops: run() returns once its last round is in Redis
    await task
    elapsed = Timing(time.perf_counter() - t0, time.process_time() - c0)
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
    ap.add_argument("--from", dest="source", type=Path, metavar="FILE.jsonl",
                    help="a recording of Bybit public WS frames instead of the synthetic one")
    ap.add_argument("--steps", type=int, default=6000,
                    help="book messages per symbol in the synthetic recording")
    ap.add_argument("--symbols", type=int, default=5, help="symbols in the synthetic recording")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    if args.source is None:
        rec = synthetic(symbols=args.symbols, steps=args.steps)
        origin = f"synthetic, {len(rec.symbols)} symbols x {args.steps} book messages + trade frames"
    else:
        try:
            rec = recorded(args.source)
        except (OSError, ValueError) as e:
            ap.error(f"--from {e}")
        if not rec.lines:
            ap.error(f"--from {args.source}: no orderbook or publicTrade frame in it")
        origin = (f"{args.source}: {len(rec.symbols)} symbols, orderbook.{rec.depth}; "
                  f"{rec.left_out} frames of other topics left out")
    lines = rec.lines
    n = len(lines)
    print(f"recording: {n} frames ({origin})")
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp)).start()
        try:
            base: list[Timing] = []
            feed: list[Timing] = []
            full: list[Timing] = []
            stats: dict = {}
            for _ in range(args.runs):
                base.append(parse_only(lines))
                feed.append(feed_only(rec))
                elapsed, stats = uvloop.run(full_path(rec, server.url))
                full.append(elapsed)
            b = statistics.median(n / t.wall for t in base)
            f = statistics.median(n / t.wall for t in full)
            f_cpu = n / min(t.cpu for t in full)
            print(f"{'path':<28}{'msgs/s (median)':>18}{'CPU us/frame (min)':>20}  runs (msgs/s)")
            for name, runs in (
                ("parse only (msgspec)", base),
                ("parse->book (no bus)", feed),
                ("parse->book->features->bus", full),
            ):
                rates = [n / t.wall for t in runs]
                cpu_us = min(t.cpu for t in runs) / n * 1e6
                print(f"{name:<28}{statistics.median(rates):>18,.0f}{cpu_us:>20.2f}  {[round(x) for x in rates]}")
            print(
                f"ratio full / parse-only: {f / b:.3f}; target {TARGET:,} msgs/s: "
                f"{'MET' if f >= TARGET else 'MISSED'} ({f / TARGET:.2f}x) wall-clock, "
                f"{'MET' if f_cpu >= TARGET else 'MISSED'} ({f_cpu / TARGET:.2f}x) on a free core (by CPU)"
            )
            print(f"last round: {stats}")
            if args.profile:
                prof = cProfile.Profile()
                prof.enable()
                uvloop.run(full_path(rec, server.url))
                prof.disable()
                out = io.StringIO()
                pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(18)
                print(out.getvalue())
        finally:
            server.stop()


if __name__ == "__main__":
    main()
