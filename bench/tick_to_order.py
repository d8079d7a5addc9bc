"""Tick to order: a public frame from the simulator -> market -> strategy -> execution -> the order at
the simulator, per stage and end to end, against raw redis-py hops plus a bare signed REST call.

    uv run python bench/tick_to_order.py [--seconds 20] [--runs 3] [--loads realistic,stressed]

Each run starts redis-server, the simulator (no rate limit, no artificial delay) and the market,
strategy and execution services as processes. The strategy runs the `bench` profile (PROFILE below):
every threshold open, bars of 100 ms, so it arms on the first bar and enters on the first message of
the next one, exits after 100 ms, and does it again: each entry and exit is an intent caused by one
public frame, deterministically. The first tenth of the intents is left out as warm-up (WARMUP). Loads: **realistic** = 1 symbol, a market step every 100 ms;
**stressed** = 5 symbols, a step every 10 ms. After --seconds the timestamps each message carries give,
per intent:

| stage | from -> to |
|---|---|
| feed | the frame's `ts` (the simulator's send, ms) -> market received |
| market | market received -> market published (the `market.*` entry behind the intent) |
| strategy | market published -> intent published (one bus hop + the decision) |
| intent -> sending | intent published -> the execution service records it as sending (hop + gate) |
| to exchange | sending -> the simulator's order receipt (its createdTime, ms) |
| REST reply | sending -> the exchange's ack in hand |
| **e2e** | the frame's `ts` -> the ack in hand |

Where intents come in bursts (published less than 5 ms apart: the stressed load's symbols close their
bars together), `intent -> sending` is also given for the first intent of a burst and for the rest
of it, which wait behind it in the execution service.

The services are then stopped and, against the same simulator (still stepping at the run's load) and
redis-server, the baseline is taken: a bare WebSocket client's delivery of the same topics
(`bench/support/bare_ws.py`: the frame's `ts` -> received, as the `feed` stage), one raw hop
(`bench/bus_hop.py`'s packed path, 1k msgs/s: below redis-py's client, as the bus itself reads since
the seventh pass; its raw redis-py path before) and a bare signed REST order (`bench/support/bare_rest.py`,
market orders as the strategy sends). The baseline's distribution is that of one bare delivery, two
raw hops (market -> strategy, strategy -> execution) and one REST call, drawn independently from the
measured samples. The bare client sends one order per counted intent, at the instants the
intents were published and on their symbols (`baseline`): a burst of signals (the stressed load's
five symbols close their bars together) is a burst of orders for a hand-written client too, queued
at the same simulator. While it sends them it holds the private stream open, subscribed to the
execution service's topics and reading every frame (`bare_ws.private_stream`): a trading client must
learn its fills, and the exchange then pushes each bare order's updates as it pushes the platform's,
so it does the same work per order for both (the twelfth pass's change). The same orders evenly spaced
at the run's rate (`baseline (even)`, the baseline of the earlier passes) and at the same instants
without the private stream (`baseline (no private stream)`, the target's baseline before the twelfth
pass) are printed beside it. So is `baseline (loaded)`: the same bare legs
and orders measured before the services are stopped, while they still run at the load (their own
figures already taken). It is not the target's baseline (a hand-written client would not carry the
three services' load); it shows how much of the platform's tail the machine's contention alone gives
a bare client. Runs interleave the loads; medians over runs are printed, with the ratio
e2e p99 / baseline p99 (target <= 1.5x, DESIGN.md section 12).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support.bare_rest import BareRest, connections_for  # noqa: E402
from bench.support.bare_ws import deliveries, private_stream  # noqa: E402
from bench.bus_hop import measure as raw_hop  # noqa: E402
from bench.support.processes import KEY, SECRET, Platform  # noqa: E402
from common import constants as c  # noqa: E402
from common.bybit.enums import Side  # noqa: E402
from common.bybit.http import BybitHttp  # noqa: E402
from common.bybit.rest import BybitRest  # noqa: E402
from common.schemas import BookTop, OrderIntent, Trade, decode  # noqa: E402

LOADS = {"realistic": (1, 100), "stressed": (5, 10)}  # symbols, simulator step (ms)
STAGES = ("feed", "market", "strategy", "intent -> sending", "to exchange", "REST reply", "e2e")
HOPS = 2  # market -> strategy, strategy -> execution (the frame's delivery is measured by a bare client)
BURST_NS = 5_000_000  # intents published this close one after another are one burst (the stressed load's
# symbols close their bars together); "intent -> sending" is also given for the first of a burst and the rest
BURST_STAGES = ("sending: 1st of burst", "sending: rest of burst")
BASELINES = ("baseline", "baseline (even)", "baseline (no private stream)", "baseline (loaded)")  # the target
# is against the first
WARMUP = 0.1  # the first tenth of the intents is left out (bus_hop.py drops its first samples alike):
# the first entry of a run reads its price and the equity over REST and may open a connection
PROFILE = """name = "bench"
version = 1
description = "tick-to-order bench: enters on every other bar, exits after one"
[features]
bar_ms = 100
window_bars = 5
momentum_bars = 1
pump_bars = 1
warmup_bars = 1
[scoring]
watch_score = -1000.0
entry_score = -1000.0
exit_score = -2000.0
[timing]
max_hold_ms = 100
cooldown_ms = 0
stale_after_ms = 600000
[risk]
risk_per_trade_pct = 0.01
max_open_positions = 100
max_exposure_pct = 1000.0
daily_loss_limit_pct = 100.0
max_drawdown_pct = 100.0
max_consecutive_losses = 100
loss_cooldown_ms = 0
"""


def pct(xs: list[float], q: int) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[q - 1]


Arrival = tuple[int, str, str]  # an intent's publish time (ns), symbol and its order's qty
Order = tuple[float, str, str]  # a bare order: its offset (s), symbol and qty


def stages(client: redis.Redis, *, rest_url: str) -> tuple[dict[str, list[float]], list[Arrival]]:
    """Per-stage latencies (ms) of every strategy intent the execution service acknowledged, and when each
    was published on which symbol, of what qty: the baseline's bare client sends the same orders."""
    published: dict[tuple[str, int], int] = {}  # (symbol, received ns) -> published ns
    for stream in (c.MARKET_TRADES, c.MARKET_BOOK):
        for _, fields in client.xrange(stream):
            m = decode(fields[c.PAYLOAD_FIELD])
            if isinstance(m, Trade | BookTop):
                published.setdefault((m.symbol, m.received_ts_ns), m.published_ts_ns)
    records = {k.decode(): json.loads(v) for k, v in client.hgetall(c.EXEC_INTENTS_KEY).items()}
    receipts = uvloop.run(order_receipts(rest_url, list(records)))
    out: dict[str, list[float]] = {s: [] for s in STAGES}
    arrivals: list[Arrival] = []
    entries = client.xrange(c.EXEC_INTENTS)
    for _, fields in entries[int(len(entries) * WARMUP):]:
        i = decode(fields[c.PAYLOAD_FIELD])
        rec = records.get(i.intent_id, {}) if isinstance(i, OrderIntent) else {}
        pub = published.get((i.symbol, i.market_received_ts_ns))
        if not rec.get("ack_ts_ns") or pub is None or i.intent_id not in receipts:
            continue
        chain = (i.market_exchange_ts_ns, i.market_received_ts_ns, pub, i.published_ts_ns, rec["ts_ns"])
        for name, (a, b) in zip(STAGES, zip(chain, chain[1:])):
            out[name].append((b - a) / 1e6)
        received_ns, qty = receipts[i.intent_id]
        out["to exchange"].append((received_ns - rec["ts_ns"]) / 1e6)
        out["REST reply"].append((rec["ack_ts_ns"] - rec["ts_ns"]) / 1e6)
        out["e2e"].append((rec["ack_ts_ns"] - i.market_exchange_ts_ns) / 1e6)
        arrivals.append((i.published_ts_ns, i.symbol, qty))
    sending = sorted((i_ns, ms) for (i_ns, _, _), ms in zip(arrivals, out["intent -> sending"], strict=True))
    for n, (ns, ms) in enumerate(sending):
        first = n == 0 or ns - sending[n - 1][0] > BURST_NS
        out.setdefault(BURST_STAGES[0] if first else BURST_STAGES[1], []).append(ms)
    return {name: xs for name, xs in out.items() if len(xs) >= 10}, arrivals


async def order_receipts(url: str, link_ids: list[str]) -> dict[str, tuple[int, str]]:
    """orderLinkId -> when the simulator took the order (its createdTime, in ns) and its qty."""
    rest = BybitRest(BybitHttp(base_url=url, api_key=KEY, api_secret=SECRET))
    try:
        out = {}
        for link in link_ids:
            orders = await rest.order_history(order_link_id=link)
            if orders:
                out[link] = (int(orders[0].createdTime) * 1_000_000, orders[0].qty)
        return out
    finally:
        await rest.http.aclose()


def even(arrivals: list[Arrival], *, rate: float) -> list[Order]:
    """The same orders at `rate`/s, evenly spaced."""
    return [(n / rate, sym, qty) for n, (_, sym, qty) in enumerate(sorted(arrivals))]


def same_times(arrivals: list[Arrival]) -> list[Order]:
    """The arrivals' own instants (s after the first): a burst of signals is a burst of orders."""
    first = min(ns for ns, _, _ in arrivals)
    return sorted(((ns - first) / 1e9, sym, qty) for ns, sym, qty in arrivals)


def most_in_flight(schedule: list[Order], window_s: float = 0.05) -> int:
    """The most orders the schedule starts within `window_s` (each may still be in flight at the next)."""
    times = [t for t, _, _ in schedule]
    return max(sum(1 for u in times[n:] if u - t < window_s) for n, t in enumerate(times))


async def bare_rest(url: str, schedule: list[Order], *, rate: float, private_url: str | None) -> list[float]:
    """Bare market orders at the schedule's offsets (s), symbols and qtys, each sent at once, alternating
    sides (the position stays near flat); a connection is kept warm for every order that may be in flight.
    With `private_url`, the private stream is held open and read meanwhile (bare_ws.private_stream)."""
    connections = max(connections_for(rate), most_in_flight(schedule) + 1)
    client = BareRest(base_url=url, api_key=KEY, api_secret=SECRET, connections=connections)
    await client.warm()
    lat: list[float] = []

    async def one(n: int, symbol: str, qty: str) -> None:
        lat.append(await client.place(symbol=symbol, link_id=f"bare-{time.time_ns()}-{n}", qty=qty,
                                      side=Side.BUY if n % 2 else Side.SELL))

    async def send() -> None:
        t0 = time.monotonic()
        tasks = []
        for n, (at, symbol, qty) in enumerate(schedule):
            await asyncio.sleep(max(0.0, t0 + at - time.monotonic()))
            tasks.append(asyncio.create_task(one(n, symbol, qty)))
        await asyncio.gather(*tasks)
    try:
        if private_url is None:
            await send()
        else:
            async with private_stream(private_url, api_key=KEY, api_secret=SECRET) as frames:
                await send()
            if not frames[0]:
                raise SystemExit("the bare client's private stream got no frame: the exchange pushed nothing")
    finally:
        await client.aclose()
    return lat[int(len(lat) * WARMUP):]


def baseline(*, feed: list[float], hops: list[float], rest: list[float], draws: int = 20_000) -> list[float]:
    rng = random.Random(1)
    return [rng.choice(feed) + sum(rng.choice(hops) for _ in range(HOPS)) + rng.choice(rest)
            for _ in range(draws)]


@contextmanager
def trading(load: str) -> Iterator[tuple[Platform, list[str]]]:
    """The simulator stepping at `load` and the market, strategy and execution services trading on it
    with the bench profile."""
    n_symbols, tick_ms = LOADS[load]
    symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT"][:n_symbols]
    with tempfile.TemporaryDirectory() as d, Platform(Path(d), symbols=symbols, tick_ms=tick_ms) as p:
        profiles = Path(d) / "data" / "profiles"
        profiles.mkdir(parents=True)
        (profiles / "bench.toml").write_text(PROFILE)
        with p.redis.client() as client:
            client.set(c.STRATEGY_PROFILE_KEY, "bench")
        p.start("market", "strategy", "execution")
        yield p, symbols


def traded(p: Platform, *, seconds: float) -> tuple[dict[str, list[float]], list[Arrival]]:
    """stages() of what the platform traded in the `seconds` it was given, which must be enough."""
    with p.redis.client() as client:
        path, arrivals = stages(client, rest_url=p.urls["rest"])
    if len(path["e2e"]) < 20:
        raise SystemExit(f"only {len(path['e2e'])} intents acknowledged in {seconds:g} s; see {p.tmp}/*.log")
    return path, arrivals


def run(load: str, *, seconds: float) -> dict[str, dict[str, float]]:
    with trading(load) as (p, symbols):
        time.sleep(seconds)
        path, arrivals = traded(p, seconds=seconds)
        rate = len(path["e2e"]) / seconds
        same = same_times(arrivals)
        schedules = {"baseline": (same, True), "baseline (even)": (even(arrivals, rate=rate), True),
                     "baseline (no private stream)": (same, False)}
        # the same bare legs while the services still run at the load (the platform's figures are taken):
        # what the machine's contention alone makes of a hand-written client's path, beside the target's
        loaded = bare_legs(p, symbols=symbols, schedules={"baseline": schedules["baseline"]}, rate=rate,
                           seconds=seconds, tag=" (loaded)")
        for name in ("strategy", "market", "execution"):  # the baseline runs on a quiet platform
            p.procs.pop(name).terminate()
        quiet = bare_legs(p, symbols=symbols, schedules=schedules, rate=rate, seconds=seconds)
    figures = {name: {"p50": pct(xs, 50), "p99": pct(xs, 99)} for name, xs in (path | quiet | loaded).items()}
    figures["rate"] = {"p50": rate, "p99": rate}
    return figures


def bare_legs(p: Platform, *, symbols: list[str], schedules: dict[str, tuple[list[Order], bool]], rate: float,
              seconds: float, tag: str = "") -> dict[str, list[float]]:
    """The bare clients' legs on the platform as it is at the call, in ms: the feed's delivery and, per
    schedule of bare orders, the baseline drawn from them; `tag` is appended to every name."""
    feed = uvloop.run(deliveries(p.urls["ws_public"], symbols=symbols, seconds=min(seconds, 10.0)))
    feed = feed[int(len(feed) * WARMUP):]
    hops = raw_hop(path="packed", url=p.redis_url, count=2000, rate=1000, samples=True)["samples"]
    out = {f"feed (bare client){tag}": feed}
    for name, (schedule, private) in schedules.items():
        rest = bare_rest(p.urls["rest"], schedule, rate=rate, private_url=p.urls["ws_private"] if private else None)
        out[name + tag] = baseline(feed=feed, hops=hops, rest=uvloop.run(rest))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--loads", default="realistic,stressed")
    args = ap.parse_args()
    loads = args.loads.split(",")
    results: dict[str, list[dict]] = {load: [] for load in loads}
    for n in range(args.runs):
        for load in loads if n % 2 == 0 else loads[::-1]:
            results[load].append(run(load, seconds=args.seconds))
            print(f"run {n + 1}/{args.runs} {load} done", file=sys.stderr, flush=True)
    for load, runs in results.items():
        common = [k for k in runs[0] if all(k in r for r in runs)]  # a load without bursts has no burst figures
        med = {k: {q: statistics.median(r[k][q] for r in runs) for q in ("p50", "p99")} for k in common}
        print(f"\n{load}: {med['rate']['p50']:.1f} intents/s, medians of {len(runs)} runs")
        print(f"{'stage':<30}{'p50 ms':>9}{'p99 ms':>9}")
        for name in (*STAGES, "feed (bare client)", *BASELINES, "feed (bare client) (loaded)",
                     *(b for b in BURST_STAGES if b in med)):
            print(f"{name:<30}{med[name]['p50']:>9.2f}{med[name]['p99']:>9.2f}")
        for name in BASELINES:
            target = " (target p99 <= 1.5x)" if name == BASELINES[0] else ""
            print(f"e2e / {name}: p50 {med['e2e']['p50'] / med[name]['p50']:.2f}x, "
                  f"p99 {med['e2e']['p99'] / med[name]['p99']:.2f}x{target}")
        print(json.dumps({"load": load, **med}))


if __name__ == "__main__":
    main()
