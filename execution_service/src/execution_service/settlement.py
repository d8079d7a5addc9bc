"""Intents whose end we did not see (a crash, a missed message, a lost reply), settled by proof.

The realtime query by orderLinkId (it also finds recently closed orders) and the history say what the
exchange has; an intent that may have been sent is sent again only when its absence is proven: neither
of them nor the private stream has it ABSENCE_WINDOW_S after its submit (Bybit's history lags). Until
then it stays `unknown`, never `rejected`.
"""

from __future__ import annotations

from common.bybit.rest import BybitRest
from common.constants import MAYBE_SENT_INTENT_STATUSES, UNSENT_INTENT_STATUSES, IntentStatus
from common.bybit.schemas.order import Order
from common.schemas import now_ns
from execution_service.account import Account
from execution_service.router import Router
from execution_service.store import POST_ONLY_CROSSED, TAKER_SUFFIX, IntentRecord, Store

ABSENCE_WINDOW_S = 10.0  # Bybit's order history lags (seconds): not in it this long after its submit, it never was


class Settlement:
    """Settles each unfinished intent on its own (see the module docstring)."""

    def __init__(self, *, rest: BybitRest, store: Store, account: Account, router: Router) -> None:
        self.rest, self.store, self.account, self.router = rest, store, account, router

    async def settle_unfinished(self, open_orders: list[Order], *, older_than_s: float) -> None:
        """Intents not open on the exchange whose end we did not see (a crash, a missed message, a lost
        reply): each settled on its own by proof (see _settle); raises after trying them all if any failed."""
        now, open_links = now_ns(), {o.orderLinkId for o in open_orders}
        failed = []
        for rec in (await self.store.intents()).values():
            unfinished = rec.status in UNSENT_INTENT_STATUSES or rec.status == IntentStatus.ACKED
            age_s = (now - rec.ts_ns) / 1e9
            if (unfinished and rec.intent_id not in open_links
                    and rec.intent_id not in self.router.active and age_s > older_than_s):
                try:
                    await self._settle(rec, age_s=age_s)
                except Exception as e:
                    failed.append(f"{rec.intent_id}: {type(e).__name__}: {e}")
        if failed:
            raise RuntimeError(f"{len(failed)} intents not settled, tried again next time: {failed[0]}")

    async def _settle(self, rec: IntentRecord, *, age_s: float) -> None:
        """From the order the exchange has (realtime query by orderLinkId, then history); an intent that
        may have been sent is sent again only when its absence is proven (_absent), else it stays
        `unknown` until it is."""
        order = await self.rest.order_by_link(symbol=rec.symbol, order_link_id=rec.intent_id)
        if order is not None and await self.account.taker_follows(order):
            order = await self.rest.order_by_link(symbol=rec.symbol, order_link_id=rec.intent_id + TAKER_SUFFIX)
            if order is None:  # crossed, and the taker never went out (a crash in between)
                await self.store.settle_intent(rec.intent_id, status=IntentStatus.CANCELLED,
                                               reason=f"{POST_ONLY_CROSSED}, taker fallback not sent")
                return
        if order is not None:
            await self.account.on_order(order)
        elif rec.intent is None or rec.status not in UNSENT_INTENT_STATUSES:
            return
        elif rec.status not in MAYBE_SENT_INTENT_STATUSES or await self._absent(rec.intent_id, age_s=age_s):
            await self.router.resume(rec.intent, sent_before=False)
        elif rec.status is not IntentStatus.UNKNOWN:
            await self.store.settle_intent(rec.intent_id, status=IntentStatus.UNKNOWN,
                                           reason="not found yet; the order history lags: settled by proof")

    async def _absent(self, link: str, *, age_s: float) -> bool:
        """Proof that an order was never placed: neither the realtime query nor the history has it (the
        caller asked), the private stream never showed it or a fill of it, and the history has had
        ABSENCE_WINDOW_S to catch up since it was sent."""
        if age_s < ABSENCE_WINDOW_S or link in await self.store.orders():
            return False
        return not any(link in links for links in (await self.store.owners()).values())
