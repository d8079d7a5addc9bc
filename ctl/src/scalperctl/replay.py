"""`scalperctl replay`: the strategy engine against the simulator's matching engine, isolated.

Runs the very `strategy_service.engine.Engine` the strategy service runs, on a recorded Bybit public
session (--from FILE) or a seeded generated path (--seed N), with its orders matched by the
simulator's engine in this process. It opens no Redis connection, no socket and reads no settings or
credentials, so it cannot touch the live platform. The engine gets what the live service gets: books
of the profile's `features.book_levels` levels and no instrument data (it guesses lots from the
profile, as live does); orders are rounded to the instrument's filters as the execution service
rounds them live. It writes to DIR: report.json (the summary),
trades.json, fills.json, equity.json (the data: byte-identical for the same input, profile and seed)
and equity.png (the picture).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path

import msgspec

from common.bybit.enums import ExecType, OrderStatus, Side
from common.bybit.errors import BybitError
from common.bybit.filters import to_step
from common.schemas import BookTop, OrderEvent, OrderIntent, Signal
from exchange_sim.engine import (BookUpdate, Exchange, Execution, MarketGenerator, TradeTick, read_replay,
                                 recorded_instruments)
from exchange_sim.server import render
from strategy_service import profile as profiles
from strategy_service.engine import Engine

MS = 1_000_000  # ns per ms
T0_MS = 1_767_225_600_000  # 2026-01-01T00:00Z: where a generated path starts
STEP_MS = 100  # one generator step, as the simulator server paces it
SAMPLE_MS = 1_000  # equity and exposure are sampled once a second of market time
LEVERAGE = Decimal(10)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="backtest a profile on a recording or a seeded path, isolated")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--from", dest="source", type=Path, help="JSON lines of Bybit v5 public WS messages")
    src.add_argument("--seed", type=int, help="generate a market path from this seed")
    p.add_argument("--profile", default=profiles.DEFAULT_PROFILE, help="strategy profile to run")
    p.add_argument("--out", type=Path, required=True, help="directory for the report")
    p.add_argument("--symbols", default="BTCUSDT,ETHUSDT,SOLUSDT", help="symbols of a generated path")
    p.add_argument("--minutes", type=float, default=20.0, help="length of a generated path")
    p.add_argument("--profiles-dir", type=Path, default=None, help="profile files overriding the packaged ones")


def run(args: argparse.Namespace) -> int:
    try:
        active = profiles.load(args.profile, override_dir=args.profiles_dir)
    except profiles.ProfileError as e:
        print(f"replay: {e}", file=sys.stderr)
        return 2
    if args.source is not None:
        if not args.source.is_file():
            print(f"replay: {args.source}: no such file", file=sys.stderr)
            return 2
        instruments = recorded_instruments(ev for _, ev in read_replay(args.source))  # tick/lot of its decimals
        symbols = sorted(instruments)
        events = (ev for _, ev in read_replay(args.source))
        source = {"file": args.source.name}
    else:
        symbols, instruments = [s.strip() for s in args.symbols.split(",") if s.strip()], None
        events = generated(symbols=symbols, seed=args.seed, steps=int(args.minutes * 60_000 / STEP_MS))
        source = {"seed": args.seed, "minutes": args.minutes, "step_ms": STEP_MS}
    bt = Backtest(active, symbols=symbols, instruments=instruments)
    bt.run(events)
    report = bt.report() | {"source": source}
    write(args.out, report=report, bt=bt)
    print(msgspec.json.encode({k: report[k] for k in ("trades", "win_rate", "pnl_net_usdt", "max_drawdown_pct")},
                              order="sorted").decode())
    return 0


def generated(*, symbols: list[str], seed: int, steps: int):
    gen = MarketGenerator(symbols=symbols, seed=seed, instruments=Exchange(symbols=symbols, balance=Decimal(0)).instruments)
    for k in range(steps):
        yield from gen.step(T0_MS + k * STEP_MS)


class Backtest:
    """Market events -> simulator and strategy engine; intents -> simulator; its events -> the engine."""

    def __init__(self, active: profiles.Profile, *, symbols: list[str], instruments=None) -> None:
        self.profile = active
        self.balance = Decimal(str(active.risk.equity_usdt))  # the account starts with the profile's equity
        self.ex = Exchange(symbols=symbols, balance=self.balance, instruments=instruments)
        for p in self.ex.positions():
            if p.leverage != LEVERAGE:
                self.ex.set_leverage(symbol=p.symbol, buy_leverage=LEVERAGE, sell_leverage=LEVERAGE, now_ms=T0_MS)
        self.engine = Engine(active)
        self.intents: dict[str, OrderIntent] = {}
        self.triggers: dict[str, tuple[str, Decimal]] = {}  # order id -> (TakeProfit|StopLoss, trigger price)
        self.rejects: Counter[str] = Counter()  # retCode -> how many requests it refused
        self._last_error = ""
        self.signals: Counter[str] = Counter()
        self.open: dict[str, dict] = {}  # symbol -> the round trip in progress
        self.trades: list[dict] = []
        self.fills: list[dict] = []
        self.equity: list[tuple[int, float, float]] = []  # (ms, equity, notional held)
        self.counts: Counter[str] = Counter()  # market events in
        self.orders: Counter[str] = Counter()  # intents placed
        self.next_sample = 0
        self.first_ms = self.last_ms = 0

    def run(self, events) -> None:
        ex, engine = self.ex, self.engine
        for ev in events:
            ex.apply(ev)
            now = ev.ts_ms
            if type(ev) is TradeTick:
                self.counts["trades_in"] += 1
                out = engine.on_trade(render.public_trade(ev).to_trade(received_ts_ns=now * MS))
            elif type(ev) is BookUpdate:
                self.counts["books_in"] += 1
                out = engine.on_book(self._book(ev))
            else:  # a recorded ticker: the simulator's mark price (TP/SL by mark), nothing for the strategy
                out = ()
            for o in out:
                if type(o) is Signal:
                    self.on_signal(o)
                else:
                    self._place(o, now)
            if ex.events:
                self._drain()
            if now >= self.next_sample:
                self.first_ms = self.first_ms or now
                self._sample(now)
            self.last_ms = now
        self._sample(self.last_ms)

    def on_signal(self, s: Signal) -> None:
        """Signals are only counted in the report (a subclass may keep them)."""
        self.signals[s.state] += 1

    def _book(self, ev: BookUpdate) -> BookTop:
        bids, asks, u, seq, ts = self.ex.book(ev.symbol, self.profile.features.book_levels)
        return BookTop(symbol=ev.symbol, u=u, seq=seq, bids=[(str(p), str(q)) for p, q in bids],
                       asks=[(str(p), str(q)) for p, q in asks], stale=not bids or not asks,
                       exchange_ts_ns=ts * MS, received_ts_ns=ts * MS)

    def _place(self, i: OrderIntent, now: int) -> None:
        self.intents[i.intent_id] = i
        self.orders["exits" if i.reduce_only else "entries"] += 1
        inst = self.ex.instruments[i.symbol]
        tick = inst.tick_size
        if not self._try(self.ex.place_order, symbol=i.symbol, side=i.side, order_type=i.order_type,
                         qty=_to_step(i.qty, inst.qty_step, ROUND_DOWN), price=_to_step(i.price, tick),
                         time_in_force=i.time_in_force, reduce_only=i.reduce_only, order_link_id=i.intent_id,
                         take_profit=None if i.reduce_only else _to_step(i.take_profit, tick),
                         stop_loss=None if i.reduce_only else _to_step(i.stop_loss, tick), now_ms=now):
            self.engine.on_exec_event(OrderEvent(
                order_link_id=i.intent_id, order_id="", symbol=i.symbol, side=i.side, status=OrderStatus.REJECTED,
                order_type=i.order_type, qty=i.qty, reject_reason=self._last_error, ts_ns=now * MS))

    def _try(self, fn, **kwargs) -> bool:
        try:
            fn(**kwargs)
            return True
        except BybitError as e:
            self._last_error = f"{e.code} {e.message}"
            self.rejects[str(e.code)] += 1
            return False

    def _drain(self) -> None:
        for kind, rec in self.ex.drain_events():
            if kind == "order":
                self.engine.on_exec_event(render.order(rec).to_order_event(ts_ns=rec.updated_ms * MS))
                if rec.stop_order_type:
                    self.triggers[rec.order_id] = (rec.stop_order_type, rec.trigger_price)
            elif kind == "execution":
                self.engine.on_exec_event(render.execution(rec).to_fill_event(ts_ns=rec.exec_ms * MS))
                self._record_fill(rec)
            elif kind == "position":
                self.engine.on_exec_event(render.position(rec).to_position_event(ts_ns=rec.updated_ms * MS))

    def _record_fill(self, x: Execution) -> None:
        sign = 1 if x.side == Side.BUY else -1
        intent = self.intents.get(x.order_link_id)
        kind, ref = self.triggers.get(x.order_id, ("Liquidation" if x.exec_type == ExecType.BUST_TRADE else "", None))
        if intent is not None:
            kind, ref = "Exit" if intent.reduce_only else "Entry", Decimal(intent.reference_price or x.exec_price)
        slip = float((x.exec_price - ref) / ref * 10_000 * sign) if ref else 0.0
        self.fills.append({"ms": x.exec_ms, "symbol": x.symbol, "side": x.side, "price": str(x.exec_price),
                           "qty": str(x.exec_qty), "fee": str(x.exec_fee), "maker": x.is_maker, "kind": kind,
                           "slippage_bps": round(slip, 4)})
        t = self.open.get(x.symbol)
        if t is None:
            t = self.open[x.symbol] = {"symbol": x.symbol, "side": x.side, "entry_ms": x.exec_ms, "size": Decimal(0),
                                       "max_size": Decimal(0), "cost": Decimal(0), "pnl": Decimal(0),
                                       "fees": Decimal(0), "exit_value": Decimal(0), "closed": Decimal(0)}
        t["fees"] += x.exec_fee
        if x.side == t["side"]:
            t["size"] += x.exec_qty
            t["cost"] += x.exec_value
            t["max_size"] = max(t["max_size"], t["size"])
            return
        avg = t["cost"] / t["max_size"]
        closed = min(x.exec_qty, t["size"])
        t["pnl"] += (x.exec_price - avg) * closed * (1 if t["side"] == Side.BUY else -1)
        t["size"] -= closed
        t["closed"] += closed
        t["exit_value"] += x.exec_price * closed
        if t["size"] == 0:
            del self.open[x.symbol]
            self.trades.append({
                "symbol": t["symbol"], "side": t["side"], "entry_ms": t["entry_ms"], "exit_ms": x.exec_ms,
                "qty": str(t["max_size"]), "entry_price": str(round(avg, 8)),
                "exit_price": str(round(t["exit_value"] / t["closed"], 8)), "exit": kind,
                "pnl_gross_usdt": str(round(t["pnl"], 8)), "fees_usdt": str(round(t["fees"], 8)),
                "pnl_net_usdt": str(round(t["pnl"] - t["fees"], 8))})

    def _sample(self, now: int) -> None:
        held = sum((p.position_value for p in self.ex.positions()), Decimal(0))
        self.equity.append((now, round(float(self.ex.wallet().equity), 6), round(float(held), 6)))
        self.next_sample = now - now % SAMPLE_MS + SAMPLE_MS

    def report(self) -> dict:
        nets = [Decimal(t["pnl_net_usdt"]) for t in self.trades]
        eq = [e for _, e, _ in self.equity]
        peak, dd = eq[0] if eq else 0.0, 0.0
        for v in eq:
            peak = max(peak, v)
            dd = max(dd, (peak - v) / peak * 100 if peak else 0.0)
        held = [h for _, _, h in self.equity]
        slips = sorted(f["slippage_bps"] for f in self.fills if f["kind"])
        w = self.ex.wallet()
        return {
            "profile": self.profile.name, "profile_version": self.profile.version,
            "symbols": sorted(self.ex.instruments), "start_ms": self.first_ms, "end_ms": self.last_ms,
            "market_events": dict(sorted(self.counts.items())), "signals": dict(sorted(self.signals.items())),
            "trades": len(self.trades), "wins": sum(n > 0 for n in nets),
            "win_rate": round(sum(n > 0 for n in nets) / len(nets), 6) if nets else 0.0,
            "pnl_gross_usdt": str(sum((Decimal(t["pnl_gross_usdt"]) for t in self.trades), Decimal(0))),
            "fees_usdt": str(w.fees_paid), "pnl_net_usdt": str(round(w.equity - self.balance, 8)),
            "final_equity_usdt": str(round(w.equity, 8)), "max_drawdown_pct": round(dd, 6),
            "exposure": {"max_notional_usdt": round(max(held, default=0.0), 6),
                         "mean_notional_usdt": round(sum(held) / len(held), 6) if held else 0.0,
                         "time_in_market_pct": round(sum(h > 0 for h in held) / len(held) * 100, 6) if held else 0.0},
            "fills": {"count": len(self.fills), "maker": sum(f["maker"] for f in self.fills),
                      "by_kind": dict(sorted(Counter(f["kind"] or "other" for f in self.fills).items())),
                      "slippage_bps": {"mean": round(sum(slips) / len(slips), 6) if slips else 0.0,
                                       "p50": _pct(slips, 50), "p95": _pct(slips, 95), "max": max(slips, default=0.0)}},
            "orders": {"entries": self.orders["entries"], "exits": self.orders["exits"],
                       "rejected_by_code": dict(sorted(self.rejects.items()))},
            "kill_switch": self.engine.risk.killed or "off",
        }


def _to_step(value: str | None, step: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal | None:
    """An intent's quantity (down) or price (nearest) on the instrument's grid, as the execution
    service's filters make it live; None for no value."""
    return to_step(Decimal(value), step, rounding) if value else None


def _pct(sorted_values: list[float], q: int) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, max(0, -(-q * len(sorted_values) // 100) - 1))]


def write(out: Path, *, report: dict, bt: Backtest) -> None:
    """The data as sorted, indented JSON (same run -> same bytes), then the picture."""
    out.mkdir(parents=True, exist_ok=True)
    data = {"report.json": report, "trades.json": bt.trades, "fills.json": bt.fills,
            "equity.json": [{"ms": ms, "equity_usdt": e, "notional_usdt": h} for ms, e, h in bt.equity]}
    for name, obj in data.items():
        (out / name).write_bytes(msgspec.json.format(msgspec.json.encode(obj, order="sorted"), indent=2) + b"\n")
    plot(out / "equity.png", equity=bt.equity, trades=bt.trades, title=f"{report['profile']} v{report['profile_version']}")


def plot(path: Path, *, equity: list[tuple[int, float, float]], trades: list[dict], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    minutes = [(ms - equity[0][0]) / 60_000 for ms, _, _ in equity]
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(10, 6), height_ratios=(3, 1))
    top.plot(minutes, [e for _, e, _ in equity], color="tab:blue", lw=1.2)
    top.set_ylabel("equity (USDT)")
    top.set_title(f"replay: {title}, {len(trades)} trades")
    bottom.fill_between(minutes, [h for _, _, h in equity], color="tab:orange", alpha=0.5, step="post")
    bottom.set_ylabel("notional held")
    bottom.set_xlabel("minutes of market time")
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
