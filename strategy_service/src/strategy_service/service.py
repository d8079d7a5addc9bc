"""The strategy engine on the bus: market and execution streams in, signals and intents out.

Adds what the pure engine must not do itself: the wall-clock staleness verdict on the feed, safe
mode, the active profile (a Redis key, hot-reloaded through sys.control), heartbeat facts, the
kill-switch alert, the risk snapshot (a Redis key saved with every execution event it accounts)
rebuilding state from Redis after a restart, and execution's view: no entry while execution is not
NORMAL, and its positions adopted after each reconciliation and on an exit refused as flat.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial

import msgspec
from redis.exceptions import ResponseError

from common import constants as c
from common.bybit.constants import REDUCE_ONLY_INCREASE
from common.health import Progress
from common.lifecycle import Runtime
from common.bus import REDIS_DOWN, Consumer
from common.schemas import (BookTop, Command, ControlCommand, FillEvent, Message, OrderEvent, OrderIntent,
                            PositionEvent, Severity, Signal, Status, Trade, decode, now_ns)
from strategy_service import profile as profiles
from strategy_service import execution_view, risk_snapshot
from strategy_service.engine import INTENT_PREFIX, MAX_EXIT_REFUSALS, Engine, Output
from strategy_service.machine import State

log = logging.getLogger(__name__)

# How far back a restart reads exec.intents and exec.events to rebuild its state (entries).
RESTORE_DEPTH = 50_000
EXEC_POLL_S = 0.5  # execution's state and newest recovery plan are read this often
# Refusals that mean the position the exit was for is not there (Bybit: "current position is zero").
FLAT_REFUSALS = (str(REDUCE_ONLY_INCREASE),)


class StrategyService:
    """The pure engine on the bus: consumers in, signals and intents out, its state kept in Redis."""

    def __init__(self, rt: Runtime, engine: Engine) -> None:
        self.rt, self.engine = rt, engine
        self.profiles_dir = rt.settings.data_dir / "profiles"
        self._kills_seen = engine.risk.kills
        self._cursor = risk_snapshot.NO_ENTRY  # the last exec.events entry the engine has accounted
        self._saving = asyncio.Lock()
        self._exec: Consumer | None = None
        self._plan = ""  # the newest of execution's recovery plans whose positions were adopted
        self._last_fill_ours: dict[str, bool] = {}  # symbol -> whether its latest fill was a strategy order's
        self._pauses: dict[str, tuple[float, str]] = {}  # symbol -> (monotonic end, why): entries paused
        # market stream -> outputs of the read in hand, published together before its entries are acked
        self._outbox: dict[str, list[Output]] = {c.MARKET_TRADES: [], c.MARKET_BOOK: []}
        self._show_profile()

    def register(self) -> None:
        """Our consumers and the control hook, once `restore` has run."""
        self._exec = self.rt.consume(c.EXEC_EVENTS, self.on_exec,
                                     types=(OrderEvent, FillEvent, PositionEvent))
        for stream, kind in ((c.MARKET_TRADES, Trade), (c.MARKET_BOOK, BookTop)):
            self.rt.consume(stream, self.on_market, types=(kind,), flush=partial(self._publish_read, stream))
        self.rt.on_control(self.on_control)
        self.rt.task("execution-view", self.watch_execution)

    async def restore(self) -> None:
        """Rebuild from the risk snapshot, our past intents and the execution events after the
        snapshot, before any new message is read."""
        await self._ensure_group(c.EXEC_EVENTS)  # no event may slip between the read and the group
        snap = await self._load_snapshot()
        if snap is not None:
            self.engine.load(snap)
            self._kills_seen, self._cursor = self.engine.risk.kills, snap.entry_id
        intents = [m for _, m in await self._read_back(c.EXEC_INTENTS) if isinstance(m, OrderIntent)]
        entries = [(i, m) for i, m in await self._read_back(c.EXEC_EVENTS)
                   if isinstance(m, (OrderEvent, FillEvent, PositionEvent))]
        events = [m for i, m in entries if risk_snapshot.newer(i, self._cursor)]
        if snap is not None and entries and risk_snapshot.newer(entries[0][0], self._cursor):
            log.warning("risk_snapshot_behind_stream", extra={"ctx": {"snapshot": self._cursor,
                                                                      "oldest": entries[0][0]}})
        self.engine.restore(intents=intents, events=events,
                            accounted=[m for i, m in entries if not risk_snapshot.newer(i, self._cursor)])
        await self._after()
        if events:
            self._cursor = entries[-1][0]
            await self._save()
        log.info("state_restored", extra={"ctx": {"intents": len(intents), "events": len(events),
                                                  "snapshot": snap is not None,
                                                  "equity": round(self.engine.risk.equity, 2)}})

    async def on_market(self, msg: Message) -> None:
        e = self.engine
        e.safe_mode = self.rt.safe_mode
        e.feed_stale = now_ns() - msg.received_ts_ns > e.profile.timing.stale_after_ms * 1_000_000
        if isinstance(msg, Trade):
            self._outbox[c.MARKET_TRADES] += e.on_trade(msg)
        else:
            self._outbox[c.MARKET_BOOK] += e.on_book(msg)

    async def _publish_read(self, stream: str) -> None:
        """The consumer's flush: a read's signals and intents in one round trip, not one per message
        (a burst of entries on several symbols goes out together); Redis lost: kept for the retry."""
        out, self._outbox[stream] = self._outbox[stream], []
        if not out:
            return
        try:
            await self._publish(out)
        except REDIS_DOWN:
            self._outbox[stream][:0] = out
            raise

    async def on_exec(self, msg: Message) -> None:
        entry_id = self._exec.entry_id.decode()
        if not risk_snapshot.newer(entry_id, self._cursor):
            return  # accounted before a restart (a redelivery of what `restore` read back)
        refusals = self._refusals(msg)
        if await self._strategy_s(msg):
            self.engine.on_exec_event(msg)
        await self._after()  # the alert first: a crash before the save repeats it rather than loses it
        if isinstance(msg, OrderEvent) and msg.reduce_only and msg.reject_reason:
            await self._exit_refused(msg, before=refusals)
        self._cursor = entry_id
        await self._save()

    async def watch_execution(self, progress: Progress) -> None:
        """Follow execution's state (no entry armed unless NORMAL) and adopt its positions after each
        of its recovery plans."""
        while True:
            progress.beat()
            try:
                self.engine.exec_hold = await execution_view.hold_reason(self.rt.bus.redis)
                self.rt.health.details["execution_hold"] = self.engine.exec_hold or "none"
                self._lapse_pauses()
                plan, outcome = await execution_view.newest_plan(self.rt.bus.redis)
                if plan != self._plan and outcome == "ok":
                    self._plan = plan
                    await self.adopt(f"after execution's recovery plan {plan}")
            except (*REDIS_DOWN, ValueError, msgspec.DecodeError) as e:  # Redis down or a bad value: try
                log.warning("execution_view_unread", extra={"ctx": {"error": str(e)}})  # at the next poll
            await asyncio.sleep(EXEC_POLL_S)

    async def adopt(self, why: str) -> None:
        """Execution's positions (the strategy's own) become the engine's, and are saved."""
        held = await execution_view.strategy_positions(self.rt.bus.redis, prefix=INTENT_PREFIX)
        changed = self.engine.adopt(held, now_ms=time.time_ns() // 1_000_000)
        if changed:
            log.warning("positions_adopted", extra={"ctx": {"why": why, "symbols": changed}})
            await self._save()

    async def _strategy_s(self, msg: Message) -> bool:
        """False for a position the strategy neither holds nor waits for and none of its orders built (a
        manual or foreign one): the strategy does not take it over. Fills always count (equity)."""
        if isinstance(msg, FillEvent):
            self._last_fill_ours[msg.symbol] = msg.order_link_id.startswith(INTENT_PREFIX)
        if not isinstance(msg, PositionEvent) or float(msg.size or 0) == 0:
            return True
        s = self.engine.symbols.get(msg.symbol)
        if self._last_fill_ours.get(msg.symbol) or (s is not None and (s.pos_size > 0 or s.m.state is State.ARMED)):
            return True
        return await execution_view.built_by(self.rt.bus.redis, symbol=msg.symbol, prefix=INTENT_PREFIX)

    def _refusals(self, msg: Message) -> int:
        s = self.engine.symbols.get(getattr(msg, "symbol", ""))
        return 0 if s is None else s.exit_refusals

    async def _exit_refused(self, msg: OrderEvent, *, before: int) -> None:
        """Our exit was refused: a refusal that says the position is flat makes the exchange's view ours;
        refused MAX_EXIT_REFUSALS times in a row, the exit is given up with a CRIT alert."""
        if msg.reject_reason.startswith(FLAT_REFUSALS):
            await self.adopt(f"exit {msg.order_link_id} refused: {msg.reject_reason}")
        s = self.engine.symbols.get(msg.symbol)
        if s is not None and before < MAX_EXIT_REFUSALS <= s.exit_refusals:
            log.error("exit_given_up", extra={"ctx": {"symbol": msg.symbol, "reason": msg.reject_reason}})
            await self.rt.bus.alert(key=c.STRATEGY_EXIT_REFUSED_ALERT, severity=Severity.CRIT,
                                    title=f"strategy: exit of {msg.symbol} refused {s.exit_refusals} times, "
                                          f"given up", detail=msg.reject_reason)

    async def on_control(self, cmd: ControlCommand) -> None:
        if cmd.target not in ("*", self.rt.service):
            return
        if cmd.command is Command.SET_PROFILE:
            await self._switch(cmd.args.get("profile", ""))
            if cmd.args.get("reset_kill_switch") == "true":
                self.engine.risk.reset_kill()
                log.warning("kill_switch_reset", extra={"ctx": {"by": cmd.issued_by}})
                await self._save()
                await self._after()
        elif cmd.command is Command.RELOAD_CONFIG:
            await self._switch(self.engine.profile.name)
        elif cmd.command is Command.PAUSE_ENTRIES:
            self.pause_entries(cmd)

    def pause_entries(self, cmd: ControlCommand) -> None:
        """Pause (or, for 0 s, resume) new entries on the command's symbols for its `for_s` seconds; a bad
        argument is logged and changes nothing."""
        try:
            seconds = float(cmd.args.get("for_s", ""))
            symbols = [s for s in cmd.args.get("symbols", "").split(",") if s]
        except ValueError:
            log.error("pause_rejected", extra={"ctx": {"args": cmd.args, "error": "for_s is not a number"}})
            return
        end = time.monotonic() + seconds
        why = f"entries paused by {cmd.issued_by or 'operator'}: {cmd.args.get('why', '')}".rstrip(": ")
        for symbol in symbols:
            if seconds > 0:
                self._pauses[symbol] = (end, why)
            else:
                self._pauses.pop(symbol, None)
        log.warning("entries_paused", extra={"ctx": {"symbols": symbols, "for_s": seconds, "why": why}})
        self._lapse_pauses()

    def _lapse_pauses(self) -> None:
        """Drop the pauses whose time is up; the engine and the heartbeat get the rest."""
        now = time.monotonic()
        self._pauses = {s: p for s, p in self._pauses.items() if p[0] > now}
        self.engine.paused = {s: why for s, (_, why) in self._pauses.items()}
        self.rt.health.details["entries_paused"] = ",".join(sorted(self._pauses)) or "none"

    async def _switch(self, name: str) -> None:
        """Load, validate and activate a profile; a bad one is refused and the old one stays."""
        try:
            new = profiles.load(name, override_dir=self.profiles_dir,
                                feed_levels=self.rt.settings.market_publish_levels)
        except profiles.ProfileError as e:
            log.error("profile_rejected", extra={"ctx": {"error": str(e)}})
            await self.rt.bus.alert(key=c.STRATEGY_PROFILE_ALERT, severity=Severity.WARN,
                                    title="strategy: profile rejected", detail=str(e))
            return
        self.engine.set_profile(new)
        await self.rt.bus.redis.set(c.STRATEGY_PROFILE_KEY, new.name)
        self._show_profile()
        log.info("profile_active", extra={"ctx": {"profile": new.name, "version": new.version}})

    async def _publish(self, out: list[Output]) -> None:
        stamp = now_ns()
        await self.rt.bus.publish_many([
            (c.STRATEGY_SIGNALS if isinstance(o, Signal) else c.EXEC_INTENTS,
             msgspec.structs.replace(o, published_ts_ns=stamp)) for o in out])

    async def _after(self) -> None:
        """Raise the CRIT alert once per kill-switch trip; keep health and heartbeat facts current."""
        risk = self.engine.risk
        self.rt.health.details["equity_usdt"] = f"{risk.equity:.2f}"
        self.rt.health.details["kill_switch"] = risk.killed or "off"
        if risk.kills != self._kills_seen:
            self._kills_seen = risk.kills
            log.error("kill_switch", extra={"ctx": {"reason": risk.killed}})
            await self.rt.bus.alert(key=c.STRATEGY_KILL_SWITCH_ALERT, severity=Severity.CRIT,
                                    title="strategy kill switch: no new entries", detail=risk.killed)
        if risk.killed:
            self.rt.health.set(Status.YELLOW, f"kill switch: {risk.killed}")
        elif self.rt.health.reason.startswith("kill switch"):
            self.rt.health.set(Status.GREEN)

    def _show_profile(self) -> None:
        self.rt.health.details["profile"] = self.engine.profile.name
        self.rt.health.details["profile_version"] = str(self.engine.profile.version)

    async def _save(self) -> None:
        """The risk snapshot as of now, written after any save in flight: the exec consumer and the control
        handler save concurrently, and an older state landing last would undo a kill-switch reset."""
        async with self._saving:
            await self.rt.bus.redis.set(c.STRATEGY_RISK_KEY,
                                        risk_snapshot.encode(self.engine.snapshot(self._cursor)))

    async def _load_snapshot(self) -> risk_snapshot.RiskSnapshot | None:
        raw = await self.rt.bus.redis.get(c.STRATEGY_RISK_KEY)
        if raw is None:
            return None
        try:
            return risk_snapshot.decode(raw)
        except ValueError as e:
            log.error("risk_snapshot_unreadable", extra={"ctx": {"error": str(e)}})
            await self.rt.bus.alert(key=c.STRATEGY_RISK_SNAPSHOT_ALERT, severity=Severity.WARN,
                                    title="strategy: risk snapshot unreadable, rebuilt from exec.events",
                                    detail=str(e))
            return None

    async def _read_back(self, stream: str) -> list[tuple[str, Message]]:
        """The last RESTORE_DEPTH entries of `stream` as (entry id, message), oldest first."""
        entries = await self.rt.bus.redis.xrevrange(stream, count=RESTORE_DEPTH)
        out = []
        for entry_id, fields in reversed(entries):
            try:
                out.append((entry_id.decode(), decode(fields[c.PAYLOAD_FIELD])))
            except (KeyError, ValueError):
                continue  # the live consumer dead-letters bad entries; here they are only skipped
        return out

    async def _ensure_group(self, stream: str) -> None:
        try:
            await self.rt.bus.redis.xgroup_create(stream, self.rt.service, id="$", mkstream=True)
        except ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise


async def setup(rt: Runtime) -> StrategyService:
    """Wire the service: the active profile (a rejected one falls back to the default, with an alert) ->
    engine -> state rebuilt from Redis -> consumers."""
    rt.health.details["mode"] = rt.settings.execution_mode.value
    name = (await rt.bus.redis.get(c.STRATEGY_PROFILE_KEY) or profiles.DEFAULT_PROFILE.encode()).decode()
    try:
        active = profiles.load(name, override_dir=rt.settings.data_dir / "profiles",
                               feed_levels=rt.settings.market_publish_levels)
    except profiles.ProfileError as e:
        log.error("profile_rejected", extra={"ctx": {"error": str(e), "fallback": profiles.DEFAULT_PROFILE}})
        await rt.bus.alert(key=c.STRATEGY_PROFILE_ALERT, severity=Severity.WARN,
                           title=f"strategy: profile {name!r} rejected, using {profiles.DEFAULT_PROFILE}",
                           detail=str(e))
        active = profiles.load(profiles.DEFAULT_PROFILE)
    strategy = StrategyService(rt, Engine(active))
    await strategy.restore()
    strategy.register()
    return strategy
