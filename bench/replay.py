"""The strategy engine's tick rate in process (no Redis), and a full replay with matching.

    uv run python bench/replay.py [--runs 5] [--minutes 20] [--seed 11] [--profile balanced]

1. Engine: a seeded generated path (3 symbols, 100 ms steps) is turned into the bus messages the
   service receives (Trade, BookTop) once, up front; then, per run, a fresh `Engine` takes them
   in order. Reported: trade ticks/s over trade messages only, and messages/s over the mixed
   stream, each with the baseline of a bare loop that only parses each trade's price and size
   (the least any engine does), as medians over the runs. Target (DESIGN.md section 12):
   >= 500k trade ticks/s.
2. Where the time goes: cProfile of one mixed run, top functions by own time.
3. Full replay: `scalperctl replay`'s Backtest (generator -> simulator -> engine -> orders ->
   simulator events -> engine), split into generating the path, the simulator alone, and the
   whole loop.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and bench/exchange_sim.py would shadow the
# exchange_sim package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from common.schemas import BookTop, Trade  # noqa: E402
from exchange_sim.engine import Exchange, TradeTick  # noqa: E402
from scalperctl.replay import MS, Backtest, generated  # noqa: E402
from strategy_service import profile as profiles  # noqa: E402
from strategy_service.engine import Engine  # noqa: E402

SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]


def messages(events) -> list[Trade | BookTop]:
    """The bus messages the service would get for these events (books through the simulator's book)."""
    ex = Exchange(symbols=SYMBOLS, balance=Decimal(0))
    out: list[Trade | BookTop] = []
    for ev in events:
        ex.apply(ev)
        ts = ev.ts_ms * MS
        if type(ev) is TradeTick:
            out.append(Trade(symbol=ev.symbol, trade_id=ev.trade_id, side=ev.side, price=str(ev.price),
                             size=str(ev.size), exchange_ts_ns=ts, received_ts_ns=ts))
        else:
            bids, asks, u, seq, _ = ex.book(ev.symbol, 5)
            out.append(BookTop(symbol=ev.symbol, u=u, seq=seq, bids=[(str(p), str(q)) for p, q in bids],
                               asks=[(str(p), str(q)) for p, q in asks], exchange_ts_ns=ts, received_ts_ns=ts))
    return out


def rate(fn, items) -> float:
    started = time.perf_counter()
    fn(items)
    return len(items) / (time.perf_counter() - started)


def baseline(trades: list[Trade]) -> None:
    for t in trades:
        float(t.price)
        float(t.size)


def engine_trades(prof):
    def run(trades: list[Trade]) -> None:
        on_trade = Engine(prof).on_trade
        for t in trades:
            on_trade(t)
    return run


def engine_mixed(prof):
    def run(msgs: list[Trade | BookTop]) -> None:
        e = Engine(prof)
        on_trade, on_book = e.on_trade, e.on_book
        for m in msgs:
            on_trade(m) if type(m) is Trade else on_book(m)
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--profile", default="balanced")
    args = ap.parse_args()
    prof = profiles.load(args.profile)
    steps = int(args.minutes * 600)

    t = time.perf_counter()
    events = list(generated(symbols=SYMBOLS, seed=args.seed, steps=steps))
    gen_s = time.perf_counter() - t
    msgs = messages(events)
    trades = [m for m in msgs if type(m) is Trade]
    print(f"path: {args.minutes:g} min, {len(trades)} trades + {len(msgs) - len(trades)} books, seed {args.seed}\n")

    rows = {"bare parse (baseline)": [], "engine, trades only": [], "engine, trades + books": []}
    for _ in range(args.runs):
        rows["bare parse (baseline)"].append(rate(baseline, trades))
        rows["engine, trades only"].append(rate(engine_trades(prof), trades))
        rows["engine, trades + books"].append(rate(engine_mixed(prof), msgs))
    base = statistics.median(rows["bare parse (baseline)"])
    print(f"{'1. in process, no Redis':<28}{'median msgs/s':>15}{'min':>12}{'max':>12}{'vs baseline':>13}")
    for name, values in rows.items():
        med = statistics.median(values)
        print(f"{name:<28}{med:>15,.0f}{min(values):>12,.0f}{max(values):>12,.0f}{med / base:>12.2f}x")
    ticks = statistics.median(rows["engine, trades only"])
    print(f"target >= 500,000 trade ticks/s: {'MET' if ticks >= 500_000 else 'MISSED'} ({ticks:,.0f})\n")

    print("2. where the time goes (one mixed run, own time):")
    pr = cProfile.Profile()
    pr.runcall(engine_mixed(prof), msgs)
    buf = io.StringIO()
    pstats.Stats(pr, stream=buf).sort_stats("tottime").print_stats(8)
    print("\n".join(line for line in buf.getvalue().splitlines() if line.strip()[:1].isdigit() or "ncalls" in line))

    t = time.perf_counter()
    ex = Exchange(symbols=SYMBOLS, balance=Decimal(10_000))
    for ev in events:
        ex.apply(ev)
    sim_s = time.perf_counter() - t
    t = time.perf_counter()
    bt = Backtest(prof, symbols=SYMBOLS)
    bt.run(events)
    full_s = time.perf_counter() - t
    report = bt.report()
    print(f"\n3. full replay ({len(events)} market events, {report['trades']} trades, "
          f"{report['fills']['count']} fills):")
    print(f"   generating the path   {gen_s:7.2f} s")
    print(f"   simulator alone       {sim_s:7.2f} s  ({len(events) / sim_s:,.0f} events/s)")
    print(f"   whole replay loop     {full_s:7.2f} s  ({len(events) / full_s:,.0f} events/s; the engine and "
          f"message building take {full_s - sim_s:.2f} s of it)")


if __name__ == "__main__":
    main()
