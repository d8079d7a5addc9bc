"""The best a careful hand-written client does to receive a public frame: the benches' feed baseline.

One `websockets` connection (as the market service's), subscribed to the topics the market service
reads, nothing else on its event loop; each frame is stamped the moment `recv()` returns and only its
`ts` (the simulator's send, ms) is decoded. Its delivery is the frame's `ts` -> that stamp, measured
against the same clock and the same millisecond `ts` as the platform's `feed` stage.
"""

from __future__ import annotations

import asyncio
import time

import msgspec
import websockets

from common.config import Settings
from market_service.service import topics


class _Stamp(msgspec.Struct):
    ts: int = 0  # 0: an op reply, not a topic frame


_stamp = msgspec.json.Decoder(_Stamp).decode


def subscriptions(symbols: list[str]) -> list[str]:
    """What the market service subscribes to for these symbols (at its default book depth)."""
    depth = Settings.model_fields["market_book_depth"].default
    return [t for s in symbols for t in topics(s, depth=depth)]


async def deliveries(url: str, *, symbols: list[str], seconds: float) -> list[float]:
    """Each topic frame's delivery (ms: its `ts` -> received) for `seconds`."""
    out: list[float] = []
    async with websockets.connect(url, ping_interval=None, max_size=2**24, compression=None) as ws:
        await ws.send(msgspec.json.encode({"op": "subscribe", "args": subscriptions(symbols)}).decode())
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            try:
                raw = await asyncio.wait_for(ws.recv(), left)
            except TimeoutError:
                break
            received_ns = time.time_ns()
            ts = _stamp(raw).ts
            if ts:
                out.append((received_ns - ts * 1_000_000) / 1e6)
    return out
