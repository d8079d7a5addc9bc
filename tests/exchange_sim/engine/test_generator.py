"""The seeded generator: determinism, Bybit-shaped book messages, regimes, a book the engine trades on."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal

import pytest

from exchange_sim.engine import BookUpdate, Exchange, MarketGenerator, TradeTick
from exchange_sim.engine.generator import REGIMES
from tests.exchange_sim.engine.conftest import T0

pytestmark = pytest.mark.unit

SYMBOLS = ["BTCUSDT", "ETHUSDT", "DOGEUSDT"]


def run(seed: int, steps: int, symbols=SYMBOLS):
    ex = Exchange(symbols=symbols, balance=Decimal(10_000))
    gen = MarketGenerator(symbols=symbols, seed=seed, instruments=ex.instruments)
    events = []
    for i in range(steps):
        batch = gen.step(T0 + 100 * i)
        for event in batch:
            ex.apply(event)
        events += batch
    return ex, gen, events


def test_same_seed_same_path_and_another_seed_another():
    _, _, a = run(7, 400)
    _, _, b = run(7, 400)
    _, _, c = run(8, 400)
    assert a == b
    assert a != c


def test_same_seed_and_orders_give_the_same_private_events():
    def session():
        ex, gen, _ = run(9, 50, symbols=["BTCUSDT"])
        bid = ex.book("BTCUSDT", 1)[0][0][0]
        ex.place_order(symbol="BTCUSDT", side="Buy", order_type="Limit", qty=Decimal("0.050"), price=bid,
                       now_ms=T0 + 5000)
        ex.place_order(symbol="BTCUSDT", side="Sell", order_type="Market", qty=Decimal("0.020"),
                       now_ms=T0 + 5000)
        for i in range(50, 400):
            for event in gen.step(T0 + 100 * i):
                ex.apply(event)
        return ex.drain_events()

    first = session()
    assert len(first) > 8 and any(kind == "execution" and e.is_maker for kind, e in first)
    assert first == session()


def test_first_step_is_a_deep_snapshot_per_symbol():
    ex, _, events = run(1, 1)
    assert [(e.symbol, e.kind, e.u) for e in events] == [(s, "snapshot", 1) for s in SYMBOLS]
    for e in events:
        inst = ex.instruments[e.symbol]
        assert len(e.bids) >= 50 and len(e.asks) >= 50
        assert e.bids[0][0] < e.asks[0][0]
        assert [p for p, _ in e.bids] == sorted((p for p, _ in e.bids), reverse=True)
        assert all(p % inst.tick_size == 0 and s % inst.qty_step == 0 and s > 0 for p, s in e.bids + e.asks)


def test_deltas_change_a_handful_of_levels_with_u_plus_one_and_growing_seq():
    ex, _, events = run(3, 600, symbols=["BTCUSDT"])
    books = [e for e in events if isinstance(e, BookUpdate)]
    assert [b.u for b in books] == list(range(1, len(books) + 1))
    assert all(later.seq > earlier.seq for earlier, later in zip(books, books[1:], strict=False))
    sizes = sorted(len(b.bids) + len(b.asks) for b in books[1:])
    assert sizes[len(sizes) // 2] <= 20  # the median delta touches a handful of levels
    bids, asks, u, seq, _ = ex.book("BTCUSDT", 200)
    assert len(bids) == len(asks) == 200 and u == books[-1].u and seq == books[-1].seq
    assert bids[0][0] < asks[0][0]


def test_trades_print_at_the_touch_with_bybit_fields():
    ex, _, events = run(5, 300, symbols=["ETHUSDT"])
    trades = [e for e in events if isinstance(e, TradeTick)]
    assert len(trades) > 100
    assert {t.side for t in trades} == {"Buy", "Sell"}
    assert {t.tick_direction for t in trades} <= {"PlusTick", "MinusTick", "ZeroPlusTick", "ZeroMinusTick"}
    assert len({t.trade_id for t in trades}) == len(trades)
    pairs = list(zip(trades, trades[1:], strict=False))
    sweeps = [(a, b) for a, b in pairs if a.ts_ms == b.ts_ms and a.side == b.side and a.price != b.price]
    # big takers walk the book, printing once per level: buyers up, sellers down
    assert any(a.side == "Buy" and b.price > a.price for a, b in sweeps)
    assert any(a.side == "Sell" and b.price < a.price for a, b in sweeps)
    assert ex.ticker("ETHUSDT")["lastPrice"] == trades[-1].price


def test_every_regime_shows_up_and_behaves_as_named():
    ex = Exchange(symbols=["BTCUSDT"], balance=Decimal(1))
    gen = MarketGenerator(symbols=["BTCUSDT"], seed=11, instruments=ex.instruments)
    moves: dict[str, list[float]] = {name: [] for name in REGIMES}
    spreads: dict[str, list[int]] = {name: [] for name in REGIMES}
    depth: dict[str, list[int]] = {name: [] for name in REGIMES}
    path = gen.paths["BTCUSDT"]
    for i in range(30_000):
        before = path.mid
        gen.step(T0 + 100 * i)
        regime = gen.regime("BTCUSDT")
        moves[regime].append(path.mid / before - 1)
        spreads[regime].append(path.best_ask - path.best_bid)
        depth[regime].append(path.bids[path.best_bid])
    assert all(moves.values())  # every regime was visited
    mean = {name: sum(m) / len(m) for name, m in moves.items()}
    assert mean["pump"] > 1e-4 > -1e-4 > mean["dump"]
    assert abs(mean["range"]) < 2e-5
    spread = {name: sum(v) / len(v) for name, v in spreads.items()}
    assert spread["range"] == 1 and spread["thin"] > 5
    top = {name: sum(v) / len(v) for name, v in depth.items()}
    assert top["thin"] < top["range"] / 5
    stdev = {name: (sum(m * m for m in v) / len(v)) ** 0.5 for name, v in moves.items()}
    assert stdev["burst"] > 4 * stdev["range"]


def test_an_operator_can_force_a_regime_for_a_while():
    ex = Exchange(symbols=["BTCUSDT"], balance=Decimal(1))
    gen = MarketGenerator(symbols=["BTCUSDT"], seed=4, instruments=ex.instruments)
    gen.step(T0)
    start = gen.paths["BTCUSDT"].mid
    gen.set_regime("BTCUSDT", "pump", steps=50)
    for i in range(1, 50):
        gen.step(T0 + 100 * i)
        assert gen.regime("BTCUSDT") == "pump"
    assert gen.paths["BTCUSDT"].mid > start * 1.005  # 3 bp a step for 49 steps, give or take the noise
    gen.set_regime("BTCUSDT", "trend", steps=10, up=False)
    assert (gen.regime("BTCUSDT"), gen.paths["BTCUSDT"].sign) == ("trend", -1)
    with pytest.raises(ValueError):
        gen.set_regime("BTCUSDT", "moon", steps=1)


DIGEST = """
import hashlib
from decimal import Decimal
from exchange_sim.engine import Exchange, MarketGenerator
ex = Exchange(symbols=["BTCUSDT", "DOGEUSDT"], balance=Decimal(1))
gen = MarketGenerator(symbols=["BTCUSDT", "DOGEUSDT"], seed=3, instruments=ex.instruments)
print(hashlib.sha256(repr([gen.step(1_700_000_000_000 + 100 * i) for i in range(200)]).encode()).hexdigest())
"""


def test_the_path_does_not_depend_on_the_process_hash_seed():
    digests = {
        subprocess.run([sys.executable, "-c", DIGEST], env={**os.environ, "PYTHONHASHSEED": seed},
                       capture_output=True, text=True, check=True, timeout=120).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1 and len(digests.pop().strip()) == 64
