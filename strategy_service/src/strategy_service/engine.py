"""The strategy engine: market and execution messages in, signals and order intents out.

Pure and synchronous, with no I/O and no clock: time is the exchange time of the message being
handled, so the same messages always give the same outputs. The service wraps it with the bus and
the replay tool wraps it with the simulator's matching engine; both run this same code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from common.bybit import link_ids
from common.bybit.enums import OrderStatus, OrderType, Side, TimeInForce
from common.schemas import BookTop, FillEvent, Message, OrderEvent, OrderIntent, PositionEvent, Signal, Trade
from strategy_service import detector, scoring
from strategy_service.features import Snapshot, SymbolFeatures
from strategy_service.lots import fmt, guess
from strategy_service.profile import Profile
from strategy_service.risk import RiskEngine
from strategy_service.execution_view import Held
from strategy_service.risk_snapshot import Ledger, RiskSnapshot
from strategy_service.machine import Event, Machine, State
from strategy_service.state import Recent, Symbol

Output = Signal | OrderIntent
_NOTHING: tuple[Output, ...] = ()  # what most messages produce (shared: a tuple cannot be appended to)
INTENT_PREFIX = "s-"  # our orderLinkIds: s-<symbol>-e-<setup bar ms> (entry), -x-<bar ms> (exit)
_FAILED = frozenset({OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.DEACTIVATED})
MAX_EXIT_REFUSALS = 3  # exits refused in a row on one symbol before the engine stops sending them


class Engine:
    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.risk = RiskEngine(profile.risk)
        self.safe_mode = False
        self.feed_stale = False  # the service's wall-clock verdict on the feed (never set in a replay)
        self.exec_hold = ""  # why the execution service sends no entry now ("" when NORMAL; never in a replay)
        self.paused: dict[str, str] = {}  # symbol -> why the operator paused its entries (never in a replay)
        self.symbols: dict[str, Symbol] = {}
        self.emitted = Recent()  # intent ids sent: a setup is entered at most once
        self.settled = Recent()  # intent ids that filled or ended
        self._fills_seen = Recent()

    def set_profile(self, profile: Profile) -> None:
        """Switch parameters; positions, equity and states carry over, windows restart if resized."""
        old, self.profile = self.profile, profile
        self.risk.set_params(profile.risk)
        if profile.features != old.features:
            for s in self.symbols.values():
                s.f = SymbolFeatures(profile.features)

    # --- market ---------------------------------------------------------------------------
    def on_trade(self, t: Trade) -> Sequence[Output]:
        """The hot path: add the trade to the open bar; decide only when a bar closes."""
        s = self.symbols.get(t.symbol) or self._add(t.symbol)
        f = s.f
        ts = t.exchange_ts_ns // 1_000_000
        out = self._roll(s, ts, t) if ts >= f.bar_end else _NOTHING
        f.last = float(t.price)
        f.vol += float(t.size)
        f.count += 1
        return out

    def on_book(self, b: BookTop) -> Sequence[Output]:
        s = self.symbols.get(b.symbol) or self._add(b.symbol)
        ts = b.exchange_ts_ns // 1_000_000
        out = self._roll(s, ts, b) if ts >= s.f.bar_end else _NOTHING
        s.book_stale = b.stale or not b.bids or not b.asks
        if not s.book_stale:
            s.f.on_book(b.bids, b.asks)
            s.book_ms = ts
            if s.lot is None:
                o = self.profile.orders
                s.lot = guess(b.bids[0][0], qty_step=o.qty_step, min_qty=o.min_qty)
        s.lag_ms = (b.received_ts_ns - b.exchange_ts_ns) // 1_000_000
        return out

    # --- execution ------------------------------------------------------------------------
    def on_exec_event(self, e: Message) -> Sequence[Output]:
        """Fills move our ledger and equity; positions and order updates move the state machine."""
        if isinstance(e, FillEvent):
            self._on_fill(e)
        elif isinstance(e, PositionEvent):
            self._on_position(e)
        elif isinstance(e, OrderEvent):
            self._on_order(e)
        return _NOTHING

    def snapshot(self, entry_id: str) -> RiskSnapshot:
        """What has been accounted through exec.events entry `entry_id`, to be saved."""
        return RiskSnapshot(entry_id=entry_id, risk=self.risk.state(), ledgers={
            s.name: Ledger(s.pos, s.avg, s.trade_pnl) for s in self.symbols.values() if s.pos or s.trade_pnl})

    def load(self, snap: RiskSnapshot) -> None:
        """Take back a saved snapshot, before `restore`."""
        self.risk.load(snap.risk)
        for name, led in snap.ledgers.items():
            s = self.symbols.get(name) or self._add(name)
            s.pos, s.avg, s.trade_pnl = led.pos, led.avg, led.trade_pnl

    def restore(self, *, intents: list[OrderIntent], events: list[Message],
                accounted: Sequence[Message] = ()) -> None:
        """Rebuild after a restart from our past intents and the execution service's events.

        `accounted` are older events whose fills the loaded snapshot has already counted: they
        rebuild positions and states only.
        """
        for i in intents:
            if i.source == "strategy" and i.intent_id.startswith(INTENT_PREFIX):
                self.emitted.add(i.intent_id)
                (self.symbols.get(i.symbol) or self._add(i.symbol)).last_intent = i
        for e in accounted:
            if isinstance(e, FillEvent):
                self._fills_seen.add(e.exec_id)
                self.settled.add(e.order_link_id)
            else:
                self.on_exec_event(e)
        for e in events:
            self.on_exec_event(e)
        for s in self.symbols.values():
            i = s.last_intent
            if i is None:
                continue
            since = max(s.pos_ts, i.created_ts_ns // 1_000_000)
            if s.pos_size > 0:
                state = State.EXITING if i.reduce_only and i.intent_id not in self.settled else State.ENTERED
                s.m = Machine(state=state, since_ms=since, side=s.pos_side)
            elif not i.reduce_only and i.intent_id not in self.settled:
                s.m = Machine(state=State.ARMED, since_ms=since, side=i.side)
                self.risk.exposure[s.name] = float(i.qty) * float(i.reference_price or 0)
            else:
                s.m = Machine(state=State.COOLDOWN, since_ms=since)

    def _on_fill(self, e: FillEvent) -> None:
        if e.exec_id in self._fills_seen:
            return
        self._fills_seen.add(e.exec_id)
        self.settled.add(e.order_link_id)
        s = self.symbols.get(e.symbol) or self._add(e.symbol)
        now = e.exchange_ts_ns // 1_000_000
        q = float(e.qty) if e.side == Side.BUY else -float(e.qty)
        price, pnl = float(e.price), -float(e.fee)
        if s.pos == 0 or (s.pos > 0) == (q > 0):
            s.avg = (s.avg * abs(s.pos) + price * abs(q)) / (abs(s.pos) + abs(q))
        else:
            closed = min(abs(q), abs(s.pos))
            pnl += (price - s.avg) * closed * (1.0 if s.pos > 0 else -1.0)
            if abs(q) > abs(s.pos):
                s.avg = price
        was_open = s.pos != 0
        s.pos = round(s.pos + q, 9)
        s.trade_pnl += pnl
        self.risk.on_pnl(pnl, now_ms=now)
        if was_open and s.pos == 0:
            self.risk.on_trade_closed(s.trade_pnl, now_ms=now)
            s.trade_pnl = 0.0

    def adopt(self, held: Mapping[str, Held], *, now_ms: int) -> list[str]:
        """Take the exchange's positions (as execution sees them, the strategy's own only) as ours: the
        ledger, the exposure and the state machine follow; a symbol with an entry in flight is left to
        its own events. Returns the symbols that changed."""
        changed = []
        for name in sorted(set(self.symbols) | set(held)):
            s = self.symbols.get(name) or self._add(name)
            h = held.get(name, Held(side="", size=0.0, avg=0.0))
            signed = h.size if h.side == Side.BUY else -h.size
            if s.m.state is State.ARMED or (round(s.pos - signed, 9) == 0 and s.pos_size == h.size):
                continue
            changed.append(name)
            s.pos, s.pos_size, s.pos_side, s.pos_ts = signed, h.size, h.side, now_ms
            s.avg, s.exit_refusals = h.avg if h.size else 0.0, 0
            if h.size:
                s.m.side = h.side
                self.risk.exposure[name] = h.size * h.avg
                if s.m.state not in (State.ENTERED, State.EXITING):
                    s.m.fire(Event.FILLED, now_ms)
            else:
                s.trade_pnl = 0.0
                self.risk.exposure.pop(name, None)
                if s.m.state in (State.ENTERED, State.EXITING):
                    s.m.fire(Event.FLAT, now_ms)
        return changed

    def _on_position(self, e: PositionEvent) -> None:
        s = self.symbols.get(e.symbol) or self._add(e.symbol)
        if e.ts_ns < s.pos_ts * 1_000_000:
            return  # an older event delivered again after a newer one
        now = e.ts_ns // 1_000_000
        if float(e.size) != s.pos_size:
            s.exit_refusals = 0
        s.pos_ts, s.pos_size, s.pos_side = now, float(e.size), e.side
        if s.pos_size > 0:
            self.risk.exposure[s.name] = s.pos_size * float(e.entry_price or 0)
            if s.m.can(Event.FILLED):
                s.m.side = e.side
                s.m.fire(Event.FILLED, now)
        else:
            self.risk.exposure.pop(s.name, None)
            if s.m.state in (State.ENTERED, State.EXITING):
                s.m.fire(Event.FLAT, now)

    def _on_order(self, e: OrderEvent) -> None:
        if e.status not in _FAILED or float(e.filled_qty or 0) > 0:
            return
        s = self.symbols.get(e.symbol)
        if s is None or s.last_intent is None or s.last_intent.intent_id != e.order_link_id:
            return
        self.settled.add(e.order_link_id)
        now = e.ts_ns // 1_000_000
        if s.m.state is State.ARMED:
            self.risk.exposure.pop(s.name, None)
            s.m.fire(Event.ENTRY_FAILED, now)
        elif s.m.state is State.EXITING:
            s.exit_refusals += 1
            s.m.fire(Event.EXIT_FAILED, now)

    # --- decisions ------------------------------------------------------------------------
    def _roll(self, s: Symbol, ts: int, msg: Trade | BookTop) -> Sequence[Output]:
        snap = s.f.roll(ts)
        return _NOTHING if snap is None else self._decide(s, snap, msg)

    def _decide(self, s: Symbol, snap: Snapshot, msg: Trade | BookTop) -> list[Output]:
        p, m, now = self.profile, s.m, snap.bar_end_ms
        if m.state is State.ARMED and m.expire(now, p.timing):
            self.risk.exposure.pop(s.name, None)  # the entry never filled: it holds nothing
        else:
            m.expire(now, p.timing)
        self.risk.new_day(now)
        if snap.bars < p.features.warmup_bars or not snap.bid:
            return _NOTHING
        reg, bst = detector.regime(snap, p.detector), detector.burst(snap, p.detector)
        by_side = {}
        for side in (Side.BUY, Side.SELL):
            parts = scoring.components(snap, side=side, reg=reg, bst=bst, profile=p)
            by_side[side] = (scoring.score(parts), parts)
        held = m.state in (State.ENTERED, State.EXITING)
        side = m.side if held else max((Side.BUY, Side.SELL), key=lambda k: by_side[k][0])
        sc, parts = by_side[side]
        before, out, notes = m.state, [], []
        if m.state is State.IDLE and sc >= p.scoring.watch_score:
            m.fire(Event.SETUP, now)
        elif m.state is State.WATCHING and sc < p.scoring.watch_score:
            m.fire(Event.FADE, now)
        elif m.state is State.WATCHING and sc >= p.scoring.entry_score:
            intent, why = self._entry(s, snap, side=side, msg=msg)
            out += [intent] if intent else []
            notes.append(f"entry blocked: {why}" if why else f"entry {intent.qty} @ {intent.reference_price}")
        elif m.state is State.ENTERED and (sc < p.scoring.exit_score or now - m.since_ms >= p.timing.max_hold_ms):
            if s.exit_refusals >= MAX_EXIT_REFUSALS:
                notes.append(f"exit given up: refused {s.exit_refusals} times in a row")
            else:
                out.append(self._exit(s, snap, msg=msg))
                notes.append("exit: " + ("score reversed" if sc < p.scoring.exit_score else "max hold time"))
        if m.state is State.WATCHING:
            m.side = side
        if sc >= p.scoring.watch_score or m.state is not before or out or notes:
            why = scoring.reasons(snap, side=side, reg=reg, bst=bst, parts=parts)
            out.insert(0, Signal(
                signal_id=f"{s.name}-{now}", symbol=s.name, side=side, score=sc, components=parts,
                reasons=why + notes, profile=p.name, profile_version=p.version, state=m.state.value,
                exchange_ts_ns=msg.exchange_ts_ns, received_ts_ns=msg.received_ts_ns))
        return out

    def _entry(self, s: Symbol, snap: Snapshot, *, side: str, msg: Trade | BookTop) -> tuple[OrderIntent | None, str]:
        p, now = self.profile, snap.bar_end_ms
        stale = (self.feed_stale or s.book_stale or now - s.book_ms > p.timing.stale_after_ms
                 or s.lag_ms > p.timing.stale_after_ms)
        why = (self.risk.blocked(now_ms=now, stale=stale, safe_mode=self.safe_mode) or self.exec_hold
               or self.paused.get(s.name, ""))
        intent_id = link_ids.intent_id(prefix=INTENT_PREFIX, symbol=s.name, kind="e", ms=now)
        if why or intent_id in self.emitted:
            return None, why or "already sent"
        o, lot, sign = p.orders, s.lot, 1.0 if side == Side.BUY else -1.0
        price = snap.ask if side == Side.BUY else snap.bid
        dist = price * max(o.sl_min_bps, o.sl_vol_mult * snap.vol_bps) / 1e4
        qty, why = self.risk.size(price=price, stop_distance=dist, qty_step=lot.qty_step, min_qty=lot.min_qty)
        if why:
            return None, why
        offset = 1 + sign * o.limit_offset_bps / 1e4
        limit = None if o.entry_type == OrderType.MARKET else fmt(price * offset, lot.tick)
        intent = OrderIntent(
            intent_id=intent_id, symbol=s.name, side=side, qty=fmt(qty, lot.qty_step), order_type=o.entry_type,
            price=limit, time_in_force=TimeInForce.GTC if limit is None else TimeInForce.IOC,
            take_profit=fmt(price + sign * dist * o.tp_rr, lot.tick), stop_loss=fmt(price - sign * dist, lot.tick),
            reference_price=fmt(price, lot.tick), created_ts_ns=msg.exchange_ts_ns,
            market_exchange_ts_ns=msg.exchange_ts_ns, market_received_ts_ns=msg.received_ts_ns)
        self.emitted.add(intent_id)
        self.risk.exposure[s.name] = qty * price
        s.last_intent, s.m.side, s.m.setup_ms = intent, side, now
        s.m.fire(Event.ENTRY_SENT, now)
        return intent, ""

    def _exit(self, s: Symbol, snap: Snapshot, *, msg: Trade | BookTop) -> OrderIntent:
        now, lot = snap.bar_end_ms, s.lot
        side = Side.SELL if s.m.side == Side.BUY else Side.BUY
        intent = OrderIntent(
            intent_id=link_ids.intent_id(prefix=INTENT_PREFIX, symbol=s.name, kind="x", ms=now), symbol=s.name, side=side,
            qty=fmt(s.pos_size or abs(s.pos), lot.qty_step), reduce_only=True,
            reference_price=fmt(snap.bid if side == Side.SELL else snap.ask, lot.tick),
            created_ts_ns=msg.exchange_ts_ns, market_exchange_ts_ns=msg.exchange_ts_ns,
            market_received_ts_ns=msg.received_ts_ns)
        self.emitted.add(intent.intent_id)
        s.last_intent = intent
        s.m.fire(Event.EXIT_SENT, now)
        return intent

    def _add(self, name: str) -> Symbol:
        s = self.symbols[name] = Symbol(name, SymbolFeatures(self.profile.features))
        return s
