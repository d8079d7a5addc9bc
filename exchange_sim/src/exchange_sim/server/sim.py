"""The simulator's state: one engine, its market feed, faults, limits and sockets, shared by every handler."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import msgspec
from common.bybit.schemas.envelope import PrivateMsg

from exchange_sim import engine as e
from exchange_sim.server import render
from exchange_sim.server.faults import Faults
from exchange_sim.server.feed import Feed, Replay
from exchange_sim.server.history import LaggingHistory
from exchange_sim.server.hub import Hub, Latency
from exchange_sim.server.ratelimit import RateLimits

_enc = msgspec.json.Encoder()
_RENDER = {"order": render.order, "execution": render.execution, "position": render.position,
           "wallet": render.wallet}


@dataclass(frozen=True)
class SimConfig:
    api_key: str
    api_secret: str
    symbols: list[str]
    seed: int = 7
    balance: Decimal = Decimal("10000")
    tick_ms: int = 100
    latency_ms: float = 3.0
    jitter_ms: float = 1.0
    rate_limit_scale: float = 1.0
    admin_token: str = ""
    replay: Path | None = None
    replay_speed: float = 1.0
    instruments: dict[str, e.Instrument] = field(default_factory=dict)  # --instruments: overrides any filter
    # --history-delay-ms: how far /v5/order/history lags behind the live state (Bybit: "may delay")
    history_delay_ms: int = 1500


class Sim:
    """Everything a request handler needs: config, engine, faults, limits, sockets and the market feed."""

    def __init__(self, config: SimConfig) -> None:
        """Raises ValueError (naming file and line) on a replay that is not Bybit public messages, and
        BybitError on a symbol, given or recorded, that is no USDT perpetual."""
        self.config = config
        self.faults = Faults()
        symbols, instruments = list(config.symbols), {}
        if config.replay is not None:  # the recording's symbols trade too, with the filters it implies
            instruments = e.recorded_instruments(ev for _, ev in e.read_replay(config.replay))
            symbols += [s for s in instruments if s not in symbols]
        self.exchange = e.Exchange(symbols=symbols, balance=config.balance,
                                   instruments=instruments | config.instruments)
        self.latency = Latency(base_ms=config.latency_ms, jitter_ms=config.jitter_ms, seed=config.seed)
        self.limits = RateLimits(scale=config.rate_limit_scale)
        self.requests: Counter[str] = Counter()  # signed REST calls per path, for the admin status
        self.hub = Hub()
        self.history = LaggingHistory(delay_ms=config.history_delay_ms)
        self.started_ms = self.now_ms()
        self.replay: Replay | None = None
        if config.replay is not None:
            self.replay = Replay(e.read_replay(config.replay), speed=config.replay_speed)
            source = self.replay
        else:
            source = e.MarketGenerator(symbols=symbols, seed=config.seed,
                                       instruments=self.exchange.instruments).step
        self.feed = Feed(sim=self, source=source, tick_ms=config.tick_ms)

    def now_ms(self) -> int:
        """The server clock (the clock-skew fault shifts it)."""
        return self.true_now_ms() + self.faults.clock_skew_ms

    @staticmethod
    def true_now_ms() -> int:
        return int(time.time() * 1000)

    def flush_private(self) -> None:
        """Send the engine's private events to authenticated subscribers, one frame per run of a kind."""
        events = self.exchange.drain_events()
        now = self.now_ms()
        for kind, obj in events:
            if kind == "order":
                self.history.record(obj, now_ms=now)
        if not events or not any(c.private for c in self.hub.conns):
            return
        i = 0
        while i < len(events):
            kind, j = events[i][0], i
            while j < len(events) and events[j][0] == kind:
                j += 1
            if self.hub.listening(kind):
                data = [_RENDER[kind](obj) for _, obj in events[i:j]]
                self.hub.publish(kind, _enc.encode(PrivateMsg(id=uuid.uuid4().hex, topic=kind,
                                                              creationTime=now,
                                                              data=data)))
            i = j
