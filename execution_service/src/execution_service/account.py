"""The account as the private stream tells it: orders, fills and positions into Redis and `exec.events`,
every open position kept under a TP and an SL on the exchange, the wallet's equity for the daily loss,
and the record of which of our orders built each position (its ownership)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal

import msgspec

from common.bybit.enums import ExecType, PrivateTopic, Side, TpslMode
from common import constants as c
from common.bybit.rest import LINEAR, BybitRest
from common.bybit.schemas.envelope import PrivateMsg
from common.bybit.schemas.execution import Execution
from common.bybit.schemas.instrument import InstrumentInfo
from common.bybit.schemas.order import Order
from common.bybit.schemas.position import Position, TradingStopParams
from common.bybit.schemas.wallet import WalletAccount
from common.bybit.status import intent_status
from common.config import Settings
from common.bus import Bus
from common.schemas import Severity, now_ns
from common.bybit import filters
from execution_service.equity import DailyLoss
from execution_service.quality import Quality
from execution_service.store import POST_ONLY_CROSSED, TAKER_SUFFIX, Store, intent_id_of

log = logging.getLogger(__name__)
_json = msgspec.json.Encoder()
FILL_TYPES = frozenset({ExecType.TRADE, ExecType.BUST_TRADE, ExecType.ADL_TRADE})  # they move the position


def protected(p: Position) -> bool:
    return float(p.takeProfit or 0) > 0 and float(p.stopLoss or 0) > 0


class Account:
    def __init__(self, *, settings: Settings, bus: Bus, rest: BybitRest, store: Store,
                 quality: Quality) -> None:
        self.settings, self.bus, self.rest, self.store, self.quality = settings, bus, rest, store, quality
        self.instruments: dict[str, InstrumentInfo] = {}
        self.seq = 0  # private messages applied; a REST snapshot taken across a change is stale
        self.daily = DailyLoss(redis=store.r, limit_pct=settings.exec_daily_loss_limit_pct)
        self.prefixes = tuple(p.strip() for p in settings.exec_link_prefixes.split(",") if p.strip())
        # a position pushed without TP or SL: the service wires this to the protection loop's wake-up
        self.on_bare: Callable[[Position], None] = lambda p: None

    def ours(self, link: str) -> bool:
        """An orderLinkId this platform gave (strategy or manual)."""
        return bool(link) and link.startswith(self.prefixes)

    async def load_instruments(self) -> int:
        self.instruments.update({i.symbol: i for i in await self.rest.instruments()})
        return len(self.instruments)

    async def instrument(self, symbol: str) -> InstrumentInfo:
        info = self.instruments.get(symbol)
        if info is None:
            for i in await self.rest.instruments(symbol=symbol):
                self.instruments[i.symbol] = i
            info = self.instruments.get(symbol)
            if info is None:
                raise filters.FilterError(f"unknown symbol {symbol}")
        return info

    async def on_ws(self, msg: PrivateMsg) -> None:
        self.seq += 1
        topic = msg.topic.split(".", 1)[0]
        for item in msg.data:
            if topic == PrivateTopic.ORDER:
                await self.on_order(item)
            elif topic == PrivateTopic.EXECUTION:
                await self.on_execution(item)
            elif topic == PrivateTopic.POSITION:
                await self.on_position(item)
            elif topic == PrivateTopic.WALLET:
                await self.on_wallet(item, ts_ms=msg.creationTime)

    async def on_order(self, o: Order) -> None:
        await self.store.apply_order(o)
        link = o.orderLinkId
        if link:
            intent_id = intent_id_of(link)
            self.quality.event(intent_id)
            status = intent_status(o.orderStatus)
            if status and float(o.cumExecQty or 0) > 0:
                status = c.IntentStatus.FILLED  # Bybit keeps "Cancelled" after partial fills; what filled counts
            if status and not await self.taker_follows(o):
                await self.store.settle_intent(intent_id, status=status, order_id=o.orderId,
                                               reason="" if status == c.IntentStatus.FILLED else o.rejectReason)
                if status != c.IntentStatus.FILLED:
                    self.quality.forget(intent_id)
        await self.bus.publish(c.EXEC_EVENTS, o.to_order_event(ts_ns=now_ns()))

    async def taker_follows(self, o: Order) -> bool:
        """A crossed PostOnly whose intent asked for the fallback: not the end, its taker order is."""
        if o.rejectReason != POST_ONLY_CROSSED or o.orderLinkId.endswith(TAKER_SUFFIX):
            return False
        rec = await self.store.intent(o.orderLinkId)
        return rec is not None and rec.intent is not None and rec.intent.post_only_fallback

    async def on_execution(self, e: Execution) -> bool:
        """Publish a fill once, whether it came live or was picked up after a restart; True if new.
        A funding execution is recorded once (EXEC_FUNDING_KEY), not published as a fill."""
        if e.execType == ExecType.FUNDING:
            if await self.store.first_seen(e.execId, int(e.execTime or 0)):
                await self.store.record_funding(_json.encode(e))
            return False
        if e.execType not in FILL_TYPES or not await self.store.first_seen(e.execId, int(e.execTime or 0)):
            return False
        if self.ours(e.orderLinkId):
            await self.store.record_fill(symbol=e.symbol, link=e.orderLinkId, ts_ms=int(e.execTime or 0))
        await self.quality.fill(link=intent_id_of(e.orderLinkId), symbol=e.symbol, side=e.side, price=float(e.execPrice),
                                qty=float(e.execQty), fee=float(e.execFee), maker=e.isMaker)
        await self.bus.publish(c.EXEC_EVENTS, e.to_fill_event(ts_ns=now_ns()))
        return True

    async def on_position(self, p: Position) -> None:
        await self.store.apply_position(p)
        if float(p.size or 0) == 0:
            await self.store.position_flat(symbol=p.symbol, ts_ms=int(p.updatedTime or now_ns() // 1_000_000))
        await self.bus.publish(c.EXEC_EVENTS, p.to_position_event(ts_ns=now_ns()))
        if float(p.size or 0) > 0 and not protected(p):
            self.on_bare(p)  # the protection loop puts TP/SL on it (it retries, alerts, and never blocks us)

    async def on_wallet(self, w: WalletAccount, *, ts_ms: int) -> None:
        """An equity reading: the daily loss moves, and may trip execution's kill switch (CRIT alert)."""
        tripped = await self.daily.on_equity(float(w.totalEquity), ts_ms=ts_ms)
        if tripped:
            log.error("kill_switch", extra={"ctx": {"reason": tripped}})
            await self.bus.alert(key=c.EXEC_KILL_SWITCH_ALERT, severity=Severity.CRIT,
                                 title="execution kill switch: no new entries today", detail=tripped)

    async def refresh_wallet(self) -> None:
        """An equity reading over REST (the stream pushes only on balance changes)."""
        for w in (await self.rest.wallet()).list:
            await self.on_wallet(w, ts_ms=now_ns() // 1_000_000)

    async def protect(self, p: Position) -> None:
        """Put the missing TP and/or SL on a position: a % away from the worse of entry and mark."""
        info = await self.instrument(p.symbol)
        entry = Decimal(p.avgPrice or p.entryPrice or p.markPrice)
        mark = Decimal(p.markPrice or entry)
        tp_f = Decimal(str(self.settings.exec_default_tp_pct)) / 100
        sl_f = Decimal(str(self.settings.exec_default_sl_pct)) / 100
        if p.side == Side.BUY:
            tp, sl = max(entry, mark) * (1 + tp_f), min(entry, mark) * (1 - sl_f)
        else:
            tp, sl = min(entry, mark) * (1 - tp_f), max(entry, mark) * (1 + sl_f)
        params = TradingStopParams(
            category=LINEAR, symbol=p.symbol, positionIdx=p.positionIdx, tpslMode=TpslMode.FULL,
            takeProfit=None if float(p.takeProfit or 0) > 0 else filters.price(info, str(tp)),
            stopLoss=None if float(p.stopLoss or 0) > 0 else filters.price(info, str(sl)),
            tpTriggerBy=self.settings.exec_tp_trigger_by, slTriggerBy=self.settings.exec_sl_trigger_by)
        await self.rest.trading_stop(params)
        log.info("position_protected", extra={"ctx": {"symbol": p.symbol, "take_profit": params.takeProfit,
                                                      "stop_loss": params.stopLoss}})
