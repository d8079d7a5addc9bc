"""Replay and live feed the engine the same inputs: one recorded Bybit session, run through
`scalperctl replay`'s backtest and, turned into market.book and market.trades by the market service's
own book and publisher, through the strategy service process on a real Redis, gives the same signals
and the same entry (its size and prices from the same lot guess, its scores from the same levels)."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from common import constants as c
from common.bybit.ws import parse
from common.config import Settings
from common.schemas import Message, OrderIntent, Signal
from exchange_sim.engine import read_replay
from market_service.market import Market
from scalperctl.replay import STEP_MS, Backtest
from strategy_service import profile as profiles
from tests.strategy_service.live import now_s_ms, publish, read
from tests.ctl.test_replay import record

pytestmark = pytest.mark.service

SYMBOLS = ["BTCUSDT", "ETHUSDT"]
SEED, MINUTES = 11, 3


class Kept(Backtest):
    """The backtest, keeping its signals to compare them."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kept: list[Signal] = []

    def on_signal(self, s: Signal) -> None:
        super().on_signal(s)
        self.kept.append(s)


class Collected:
    """Where the market service's publisher puts what it would send to Redis: its batch writer's place
    (market_service.batch_xadd.BatchXadd: xadd_many, release)."""

    def __init__(self) -> None:
        self.items: list[Message] = []

    async def xadd_many(self, items: list[tuple[str, Message]]) -> None:
        self.items += [m for _, m in items]

    async def release(self) -> None:
        """Nothing held: no connection to give back."""


async def as_market_service_publishes(recording) -> list[Message]:
    """Each recorded line through the market service's feed and publisher, one round per line, with
    market.book's default depth (MARKET_PUBLISH_LEVELS) and no receive latency."""
    clock = [0]
    bus = Collected()
    levels = Settings.model_fields["market_publish_levels"].default
    market = Market.publishing_to(None, resync=lambda symbol, why: None, flow_window_s=60, vol_window_s=60,
                                  imbalance_levels=5, publish_levels=levels, clock_ns=lambda: clock[0])
    market.publisher.clock_ns = lambda: clock[0]
    market.publisher._writer = bus  # what it would XADD, collected instead of sent
    for s in SYMBOLS:
        market.add(s)
    for line in recording.read_bytes().splitlines():
        msg = parse(line)
        clock[0] = msg.ts * 1_000_000
        market.on_message(msg)
        if msg.topic.startswith("orderbook."):
            await market.publisher.flush([], [msg.data.s])
        else:
            await market.publisher.flush([(t, clock[0]) for t in msg.data], [])
    return bus.items


def until_first_entry(signals: list[Signal], intents: list[OrderIntent]) -> tuple[list[tuple], OrderIntent]:
    """What the engine decided up to its first entry (after it, replay fills orders, live here does not)."""
    entry = intents[0]
    bar = int(entry.intent_id.rpartition("-")[2])
    decided = [(s.signal_id, s.side, s.score, s.components, s.reasons, s.state, s.profile, s.profile_version)
               for s in signals if int(s.signal_id.rpartition("-")[2]) <= bar]
    # the message that closes a bar (a trade or a book) may differ live: its times are left out, and
    # only the live service stamps the time of publishing
    return decided, msgspec.structs.replace(entry, created_ts_ns=0, published_ts_ns=0, market_exchange_ts_ns=0,
                                            market_received_ts_ns=0)


def test_replay_and_the_live_service_decide_the_same_on_the_same_recording(strategy, tmp_path):
    start, r = strategy
    recording = tmp_path / "session.jsonl"
    record(recording, seed=SEED, steps=int(MINUTES * 60_000 / STEP_MS), symbols=SYMBOLS,
           start_ms=now_s_ms() + 1000)  # market time ahead of the clock: live never calls it stale

    bt = Kept(profiles.load(profiles.DEFAULT_PROFILE), symbols=SYMBOLS)
    bt.run(ev for _, ev in read_replay(recording))
    replayed = until_first_entry(bt.kept, list(bt.intents.values()))

    start()
    publish(r, asyncio.run(as_market_service_publishes(recording)))
    live = until_first_entry(read(r, c.STRATEGY_SIGNALS, Signal), read(r, c.EXEC_INTENTS, OrderIntent))

    assert len(replayed[0]) > 3
    assert live == replayed
