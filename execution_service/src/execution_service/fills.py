"""Executions read over REST into the account exactly once, from a persisted watermark.

The watermark (EXEC_FILLS_WATERMARK_KEY, exchange ms) says "every execution before this was read over
REST". Only a complete REST read (every page) moves it, to the server time the read started at minus
REST_LAG_MS; a fill pushed by the private stream never does. So a fill on symbol A made during a WS drop
is still fetched after a fill on B came over the reconnected stream. Executions are deduplicated by
execId (Store.first_seen). On a first boot with an empty store the recent history is recorded as seen,
never replayed to the strategy as new fills.
"""

from __future__ import annotations

import msgspec

from common.bybit.rest import BybitRest
from common.bybit.schemas.execution import Execution
from execution_service.account import Account
from execution_service.store import Store

REST_LAG_MS = 10_000  # an execution may show up in /v5/execution/list this late: re-read (deduplicated)
FIRST_BOOT_LOOKBACK_MS = 86_400_000  # a first boot records a day of history as seen (not published)


class Batch(msgspec.Struct, kw_only=True):
    """Executions read over REST, and the watermark their complete read proves."""

    executions: list[Execution]
    watermark: int
    history: bool = False  # a first boot's history: recorded as seen, not published


class Fills:
    """Reads executions from the watermark and hands each new one to the account (see the module doc)."""

    def __init__(self, *, rest: BybitRest, store: Store, account: Account) -> None:
        self.rest, self.store, self.account = rest, store, account

    async def fetch(self) -> Batch:
        """Every execution from the watermark on (all pages), or a first boot's history."""
        started = self.rest.http.now_ms()
        mark = await self.store.fills_watermark()
        history = False
        if mark is None:
            last = await self.store.last_fill_ms()  # a store from before the watermark: go on from it
            history = last is None
            mark = (started - FIRST_BOOT_LOOKBACK_MS) if history else last
        rows = await self.rest.executions_since(mark - REST_LAG_MS)
        return Batch(executions=rows, watermark=started - REST_LAG_MS, history=history)

    async def take(self, batch: Batch) -> int:
        """Hand each execution to the account, in exchange time order; the number published. Each one is
        handled on its own; when any fails the watermark stays (they are read again) and this raises."""
        new, failed = 0, []
        for e in sorted(batch.executions, key=lambda e: int(e.execTime or 0)):
            try:
                if batch.history:
                    await self.store.first_seen(e.execId, int(e.execTime or 0))
                else:
                    new += await self.account.on_execution(e)
            except Exception as err:
                failed.append(f"{e.execId}: {type(err).__name__}: {err}")
        if failed:
            raise RuntimeError(f"{len(failed)} executions not handled, read again next time: {failed[0]}")
        await self.store.advance_fills_watermark(batch.watermark)
        return new
