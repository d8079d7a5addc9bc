"""Talking to a running strategy service through Redis, as the other services and the operator do."""

from __future__ import annotations

import itertools
import time
import uuid

from common import constants as c
from common.schemas import Command, ControlCommand, Heartbeat, Trade, decode, encode, now_ns
from tests.strategy_service.market import MS
from tests.support import wait_until

GROUP = b"strategy"


def groups_ready(r) -> bool:
    for stream in (c.MARKET_TRADES, c.MARKET_BOOK, c.EXEC_EVENTS, c.SYS_CONTROL):
        if not r.exists(stream) or GROUP not in {g["name"] for g in r.xinfo_groups(stream)}:
            return False
    return True


def _drained(r, stream: str) -> bool:
    g = next(g for g in r.xinfo_groups(stream) if g["name"] == GROUP)
    return g["lag"] == 0 and g["pending"] == 0


def publish(r, messages, *, stream: str | None = None) -> None:
    """Publish one bar at a time and wait until the service has handled it, as a live feed paces it."""
    for _, bar in itertools.groupby(messages, key=lambda m: _ts_ms(m) // 1000):
        streams = set()
        for m in bar:
            s = stream or (c.MARKET_TRADES if isinstance(m, Trade) else c.MARKET_BOOK)
            r.xadd(s, {c.PAYLOAD_FIELD: encode(m)})
            streams.add(s)
        wait_until(lambda streams=streams: all(_drained(r, s) for s in streams), timeout=20,
                   what=f"handled {streams}")


def _ts_ms(m) -> int:
    return getattr(m, "exchange_ts_ns", 0) // MS or m.ts_ns // MS


def read(r, stream: str, kind):
    return [m for m in (decode(f[c.PAYLOAD_FIELD]) for _, f in r.xrange(stream)) if isinstance(m, kind)]


def heartbeat(r) -> Heartbeat | None:
    raw = r.get(c.heartbeat_key("strategy"))
    return decode(raw) if raw else None


def control(r, command: Command, *, target: str = "strategy", **args: str) -> None:
    cmd = ControlCommand(command_id=uuid.uuid4().hex, command=command, target=target, args=args,
                         issued_by="test", ts_ns=now_ns())
    r.xadd(c.SYS_CONTROL, {c.PAYLOAD_FIELD: encode(cmd)})


def now_s_ms() -> int:
    return int(time.time()) * 1000  # whole seconds, so bar times are easy to name
