"""Entries that reach the limits together (a burst of signals) are decided in rounds: one read of the
view for all who wait, each in its order against the view plus those admitted before it, exactly as
one at a time; a read that fails or a caller that stops waiting leaves no claim behind. A view read
with the entries' queued records is decided on without another read while it is fresh, and every
entry admitted after it was read still counts."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from common.config import Settings
from common.constants import IntentStatus
from common.schemas import OrderIntent, now_ns
from execution_service.equity import DailyLoss
from execution_service.limits import VIEW_MAX_AGE_S, Limits
from execution_service.store import IntentRecord, Store

pytestmark = pytest.mark.service

PRICE = {"BTCUSDT": 50_000.0, "ETHUSDT": 2_500.0}


class CountedStore(Store):
    """The real store; counts the limits' view reads, and can hold read n until released or fail one."""

    def __init__(self, redis: aioredis.Redis) -> None:
        super().__init__(redis)
        self.reads = 0
        self.holds: dict[int, asyncio.Event] = {}
        self.fail_next = False

    async def exposure_view(self, intent_ids):
        self.reads += 1
        if self.fail_next:
            self.fail_next = False
            raise RedisConnectionError("Redis went away")
        if self.reads in self.holds:
            await self.holds[self.reads].wait()
        return await super().exposure_view(intent_ids)


@pytest.fixture
async def limits(redis_url):
    r = aioredis.from_url(redis_url)
    settings = Settings(_env_file=None, exec_max_open_positions=1, exec_max_symbol_exposure_usdt=120.0)
    daily = DailyLoss(redis=r, limit_pct=settings.exec_daily_loss_limit_pct)
    await daily.on_equity(10_000.0, ts_ms=now_ns() // 1_000_000)

    async def no_wallet_read() -> None:
        raise AssertionError("the equity is fresh: no wallet read expected")

    lim = Limits(settings=settings, store=CountedStore(r), rest=None, daily=daily, refresh_wallet=no_wallet_read)
    lim.prices = {sym: (p, time.monotonic() + 3600) for sym, p in PRICE.items()}  # fresh for the whole test
    yield lim
    await r.aclose()


def entry(n: int, symbol: str, qty: str = "0.001") -> OrderIntent:
    return OrderIntent(intent_id=f"s-{symbol}-{n}", symbol=symbol, side="Buy", qty=qty,
                       created_ts_ns=now_ns())


def queued(e: OrderIntent) -> IntentRecord:
    return IntentRecord(intent_id=e.intent_id, symbol=e.symbol, side=e.side, status=IntentStatus.QUEUED,
                        intent=e, ts_ns=now_ns())


async def recorded(limits: Limits, *entries: OrderIntent) -> list[OrderIntent]:
    """Each intent recorded as queued before it asks the limits, with no view offered (as Router.handle()
    records an intent that its read's prepare did not)."""
    await limits.store.add_intents([queued(e) for e in entries])
    return list(entries)


async def offered(limits: Limits, *entries: OrderIntent) -> list[OrderIntent]:
    """As the router's record() does for a read with entries: queued records and the view, one round trip."""
    _, view = await limits.store.add_intents_viewing([queued(e) for e in entries], list(limits.reserved))
    limits.offer(view)
    return list(entries)


@pytest.mark.parametrize(("record", "reads"), [(recorded, 1), (offered, 0)], ids=["view read in the round",
                                                                                 "view read with the records"])
async def test_a_burst_is_decided_in_order_on_one_view_not_one_per_entry(limits, record, reads):
    # 50 USDT each on BTC (at most 120 on one symbol, one symbol held): BTC, ETH, BTC, ETH, BTC
    burst = await record(limits, *(entry(n, sym) for n, sym in
                                   enumerate(["BTCUSDT", "ETHUSDT", "BTCUSDT", "ETHUSDT", "BTCUSDT"])))
    refusals = await asyncio.gather(*(limits.admit(e) for e in burst))
    assert [r.limit if r else None for r in refusals] == [
        None, "exec_max_open_positions", None, "exec_max_open_positions", "exec_max_symbol_exposure_usdt"]
    assert set(limits.reserved) == {burst[0].intent_id, burst[2].intent_id}
    # one view for the burst: the round waits a loop turn for the entries that arrived with its own, and
    # reads none when the view came with their records
    assert limits.store.reads == reads


async def test_an_entry_admitted_after_the_view_was_read_counts_against_the_next_entries(limits):
    # one view, read before any entry was admitted, serves three rounds: each admitted entry is in
    # none of its records, and must count in full (50 + 50 USDT on BTC fit in 120; a third does not)
    e0, e1, e2 = await offered(limits, *(entry(n, "BTCUSDT") for n in range(3)))
    assert await limits.admit(e0) is None
    assert await limits.admit(e1) is None
    refusal = await limits.admit(e2)
    assert refusal is not None and refusal.limit == "exec_max_symbol_exposure_usdt", refusal
    assert limits.store.reads == 0 and set(limits.reserved) == {e0.intent_id, e1.intent_id}


async def test_a_view_older_than_its_bound_is_read_again(limits):
    # an entry that waited (SAFE) is decided on the limits as they stand, not as its record found them
    [e0] = await offered(limits, entry(0, "BTCUSDT"))
    limits.offered = dataclasses.replace(limits.offered, read_at=time.monotonic() - VIEW_MAX_AGE_S - 0.01)
    assert await limits.admit(e0) is None
    assert limits.store.reads == 1


async def test_a_view_that_cannot_be_read_fails_its_reader_and_the_others_are_decided_in_the_next_round(limits):
    e0, e1, e2 = await recorded(limits, *(entry(n, "BTCUSDT") for n in range(3)))
    hold = limits.store.holds[1] = asyncio.Event()
    first = asyncio.create_task(limits.admit(e0))
    while limits.store.reads < 1:  # the first round is reading the view, and held
        await asyncio.sleep(0)
    queued = [asyncio.create_task(limits.admit(e)) for e in (e1, e2)]
    while len(limits.waiting) < 2:
        await asyncio.sleep(0)
    limits.store.fail_next = True  # the round of the two queued entries fails its read
    hold.set()
    results = await asyncio.gather(first, *queued, return_exceptions=True)
    assert results[0] is None
    assert isinstance(results[1], RedisConnectionError)  # the one that read: its entry is not sent
    assert results[2] is None  # decided in a round of its own, against a view that was read
    assert set(limits.reserved) == {"s-BTCUSDT-0", "s-BTCUSDT-2"}
    assert limits.waiting == []


async def test_an_entry_whose_caller_stops_waiting_during_its_round_keeps_no_claim(limits):
    e0, e1, e2 = await recorded(limits, entry(0, "BTCUSDT"), entry(1, "BTCUSDT"), entry(2, "BTCUSDT", "0.0002"))
    held_first, hold = limits.store.holds[1], limits.store.holds[2] = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(limits.admit(e0))
    while limits.store.reads < 1:  # the first entry's round is reading the view, and held
        await asyncio.sleep(0.001)
    second, third = (asyncio.create_task(limits.admit(e)) for e in (e1, e2))
    while len(limits.waiting) < 2:
        await asyncio.sleep(0.001)
    held_first.set()
    while limits.store.reads < 2:  # the round of the second and third entries is reading the view
        await asyncio.sleep(0.001)
    third.cancel()
    await asyncio.sleep(0)
    hold.set()
    assert await first is None and await second is None
    with pytest.raises(asyncio.CancelledError):
        await third
    assert set(limits.reserved) == {"s-BTCUSDT-0", "s-BTCUSDT-1"}  # 50 + 50 USDT: the third (10) would fit
    assert limits.waiting == []
