"""Property tests: random order flow against a random market keeps the account's invariants.

After every action: the balance and available balance are never negative; equity equals
cash + unrealised PnL - fees exactly (cash = initial balance + closed PnL, see Wallet); equity also
equals the independent mark-to-market sum initial - sum(buys) + sum(sells) + sum(size * mark) -
fees + insurance cover; no order fills more than its qty and its executions add up to its filled qty;
executions of reduce-only orders never grow or flip the position. Two symbols share the cross margin,
so a gap in one can liquidate both.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.bybit.errors import BybitError
from exchange_sim.engine import BookUpdate, Exchange, TradeTick

pytestmark = pytest.mark.unit

D = Decimal
SYMBOL = "BTCUSDT"
TICK = D("0.1")
LOT = D("0.001")
GRID = {"BTCUSDT": (TICK, LOT, 600_000), "ETHUSDT": (D("0.01"), D("0.01"), 320_000)}  # tick, lot, start
BALANCE = D(1_000)
T0 = 1_700_000_000_000

lots = st.one_of(st.integers(1, 400), st.sampled_from([300, 400]))
# book moves in ticks: mostly small, sometimes a gap of 2,000-4,000 USDT that liquidates leveraged positions
moves = st.one_of(st.integers(-300, 300), st.sampled_from([-40_000, -20_000, 20_000, 40_000]))
books = st.tuples(st.just("book"), moves, st.integers(1, 30),
                  st.lists(lots, min_size=1, max_size=6), st.lists(lots, min_size=1, max_size=6))
trades = st.tuples(st.just("trade"), st.sampled_from(["Buy", "Sell"]), st.integers(-50, 50), lots)
orders = st.tuples(st.just("place"), st.sampled_from(["Buy", "Sell"]), st.sampled_from(["Market", "Limit"]),
                   st.sampled_from(["GTC", "IOC", "FOK", "PostOnly"]), lots, st.integers(-60, 60),
                   st.sampled_from([False, False, True]), st.sampled_from([None, None, 20, 2000]),
                   st.sampled_from([None, None, 20, 2000]))
cancels = st.tuples(st.just("cancel"), st.integers(0, 10))
amends = st.tuples(st.just("amend"), st.integers(0, 10), st.integers(-60, 60), st.one_of(st.none(), lots))
stops = st.tuples(st.just("stop"), st.integers(0, 3000), st.integers(0, 3000), st.booleans())
leverages = st.tuples(st.just("leverage"), st.sampled_from([1, 5, 10, 50, 100]))
KINDS = {"book": books, "trade": trades, "place": orders, "cancel": cancels, "amend": amends, "stop": stops,
         "leverage": leverages}
WEIGHTS = ["book"] * 2 + ["trade"] * 3 + ["place"] * 5 + ["cancel", "amend", "stop", "leverage"]
action = st.sampled_from(WEIGHTS).flatmap(KINDS.__getitem__)
actions = st.lists(st.tuples(st.sampled_from(list(GRID)), action), min_size=5, max_size=60)


def price(ticks: int, tick: Decimal = TICK) -> Decimal:
    return D(ticks) * tick


def opening_book(symbol: str) -> BookUpdate:
    tick, lot, start = GRID[symbol]
    return BookUpdate(symbol=symbol, kind="snapshot", bids=[(price(start, tick), 1000 * lot)],
                      asks=[(price(start + 1, tick), 1000 * lot)], u=1, seq=1, ts_ms=T0, cts_ms=T0)


def apply(ex: Exchange, symbol: str, action: tuple, now: int) -> None:
    kind = action[0]
    tick, lot, _ = GRID[symbol]
    mid = int(ex.ticker(symbol)["markPrice"] / tick)

    def at(ticks: int) -> Decimal:
        return D(ticks) * tick

    if kind == "book":
        _, move, spread, bid_lots, ask_lots = action
        centre = mid + move
        bids = [(at(centre - i * 3), D(n) * lot) for i, n in enumerate(bid_lots)]
        asks = [(at(centre + spread + i * 3), D(n) * lot) for i, n in enumerate(ask_lots)]
        ex.apply(BookUpdate(symbol=symbol, kind="snapshot", bids=bids, asks=asks, u=now, seq=now, ts_ms=now,
                            cts_ms=now))
    elif kind == "trade":
        _, side, offset, n = action
        ex.apply(TradeTick(symbol=symbol, trade_id=str(now), side=side, price=at(mid + offset),
                           size=D(n) * lot, ts_ms=now, tick_direction="PlusTick"))
    elif kind == "place":
        _, side, order_type, tif, n, offset, reduce_only, tp, sl = action
        up = 1 if side == "Buy" else -1
        base = mid + offset if order_type == "Limit" else mid
        ex.place_order(symbol=symbol, side=side, order_type=order_type, qty=D(n) * lot,
                       price=at(mid + offset), time_in_force=tif, reduce_only=reduce_only,
                       take_profit=at(base + up * tp) if tp else None,
                       stop_loss=at(base - up * sl) if sl else None, now_ms=now)
    elif kind == "cancel":
        open_orders = ex.open_orders(symbol=symbol)
        if open_orders:
            order = open_orders[action[1] % len(open_orders)]
            ex.cancel_order(symbol=symbol, order_id=order.order_id, now_ms=now)
    elif kind == "amend":
        open_orders = ex.open_orders(symbol=symbol)
        if open_orders:
            order = open_orders[action[1] % len(open_orders)]
            ex.amend_order(symbol=symbol, order_id=order.order_id, price=at(mid + action[2]),
                           qty=None if action[3] is None else D(action[3]) * lot, now_ms=now)
    elif kind == "stop":
        position = ex.positions(symbol=symbol)[0]
        if not position.size:
            return
        up = 1 if position.side == "Buy" else -1
        ex.set_trading_stop(symbol=symbol, take_profit=at(mid + up * (action[1] + 1)),
                            stop_loss=at(mid - up * (action[2] + 1)),
                            sl_trigger_by="MarkPrice" if action[3] else "LastPrice", now_ms=now)
    else:
        ex.set_leverage(symbol=symbol, buy_leverage=D(action[1]), sell_leverage=D(action[1]), now_ms=now)


def check(ex: Exchange) -> None:
    w = ex.wallet()
    positions = ex.positions()
    fills = list(reversed(ex.executions(limit=100_000)))
    assert w.wallet_balance >= 0 and w.available_balance >= 0 and w.equity >= 0
    assert w.cash == BALANCE + w.cum_realised_pnl
    assert w.equity == w.cash + w.unrealised_pnl - w.fees_paid
    assert w.unrealised_pnl == sum((p.unrealised_pnl for p in positions), D(0))
    flows = sum(((-1 if f.side == "Buy" else 1) * f.exec_value for f in fills), D(0))
    held = sum(((1 if p.side == "Buy" else -1) * p.size * p.mark_price for p in positions if p.size), D(0))
    fees = sum((f.exec_fee for f in fills), D(0))
    assert w.equity == BALANCE + flows + held - fees + w.bankruptcy_cover
    orders = ex.order_history(limit=100_000)
    filled: dict[str, Decimal] = {}
    for f in fills:
        filled[f.order_id] = filled.get(f.order_id, D(0)) + f.exec_qty
    for order in orders:
        assert 0 <= order.cum_exec_qty <= order.qty
        assert filled.get(order.order_id, D(0)) == order.cum_exec_qty
    reduce_only = {o.order_id for o in orders if o.reduce_only}
    running = {p.symbol: D(0) for p in positions}
    for f in fills:
        before = running[f.symbol]
        after = running[f.symbol] = before + (f.exec_qty if f.side == "Buy" else -f.exec_qty)
        if f.order_id in reduce_only:
            assert abs(after) < abs(before) and after * before >= 0
    for p in positions:
        assert running[p.symbol] == (p.size if p.side == "Buy" else -p.size)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([10, 50, 100]), actions)
def test_invariants_hold_over_random_order_and_market_sequences(leverage, script):
    ex = Exchange(symbols=list(GRID), balance=BALANCE)
    for symbol in GRID:
        if leverage != 10:
            ex.set_leverage(symbol=symbol, buy_leverage=D(leverage), sell_leverage=D(leverage), now_ms=T0)
        ex.apply(opening_book(symbol))
    for i, (symbol, action) in enumerate(script):
        try:
            apply(ex, symbol, action, T0 + i + 1)
        except BybitError as e:
            assert e.code in {10001, 110001, 110007, 110017, 110043, 110094, 170134, 170135, 170136, 170137}
        check(ex)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 50), lots), min_size=1, max_size=8, unique_by=lambda lv: lv[0]),
       st.sampled_from(["Buy", "Sell"]), st.sampled_from(["Market", "Limit"]), lots, st.integers(0, 60))
def test_a_taker_never_fills_more_than_the_book_shows(levels, side, order_type, n, reach):
    """Each fill sits on a shown level, takes at most its size, never past the limit price."""
    ex = Exchange(symbols=[SYMBOL], balance=D(10_000_000))
    offer = [(price(600_000 + gap), D(size) * LOT) for gap, size in sorted(levels)]
    bid = [(price(600_000 - gap), D(size) * LOT) for gap, size in sorted(levels)]
    ex.apply(BookUpdate(symbol=SYMBOL, kind="snapshot", bids=bid, asks=offer, u=1, seq=1, ts_ms=T0,
                        cts_ms=T0))
    limit = price(600_000 + reach) if side == "Buy" else price(600_000 - reach)
    order = ex.place_order(symbol=SYMBOL, side=side, order_type=order_type, qty=D(n) * LOT,
                           price=limit if order_type == "Limit" else None, time_in_force="IOC", now_ms=T0)
    shown = dict(offer if side == "Buy" else bid)
    fills = ex.executions(order_id=order.order_id)
    for f in fills:
        assert f.exec_qty <= shown[f.exec_price]
        if order_type == "Limit":
            assert f.exec_price <= limit if side == "Buy" else f.exec_price >= limit
    assert len({f.exec_price for f in fills}) == len(fills)
    assert sum((f.exec_qty for f in fills), D(0)) == order.cum_exec_qty
    assert order.cum_exec_qty <= min(D(n) * LOT, sum(shown.values()))
