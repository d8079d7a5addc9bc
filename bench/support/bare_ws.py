"""The best a careful hand-written client does with Bybit's streams: the benches' WebSocket baselines.

`deliveries`, the feed baseline: one `websockets` connection (as the market service's), subscribed to
the topics the market service reads, nothing else on its event loop; each frame is stamped the moment
`recv()` returns and only its `ts` (the simulator's send, ms) is decoded. Its delivery is the frame's
`ts` -> that stamp, measured against the same clock and the same millisecond `ts` as the platform's
`feed` stage.

`private_stream`: what a hand-written trading client keeps open beside its orders, since it must learn
its fills: the private stream, authenticated, subscribed to the topics the execution service reads,
each frame decoded as it arrives. Bybit pushes an order's updates to every such subscriber; with it
open, the exchange does the same work per bare order as per the platform's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec
import websockets

from common.bybit import constants as k
from common.bybit.schemas.envelope import WsRequest
from common.bybit.signing import ws_auth_signature
from common.config import Settings
from execution_service.service import PRIVATE_TOPICS
from market_service.service import topics


class _Stamp(msgspec.Struct):
    ts: int = 0  # 0: an op reply, not a topic frame


_stamp = msgspec.json.Decoder(_Stamp).decode


class _Private(msgspec.Struct):
    """A private frame, data and all (`topic` empty: an op's reply)."""

    topic: str = ""
    success: bool | None = None
    data: list[dict] = []


_private = msgspec.json.Decoder(_Private).decode
_request = msgspec.json.Encoder().encode


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


@asynccontextmanager
async def private_stream(url: str, *, api_key: str, api_secret: str) -> AsyncIterator[list[int]]:
    """The private stream open and read for the body of the `with` (see the module docstring); yields a
    one-item list: the topic frames read so far."""
    async with websockets.connect(url, ping_interval=None, max_size=2**24, compression=None) as ws:
        expires = int(time.time() * 1000) + k.WS_AUTH_EXPIRES_MS
        for op, args in (("auth", [api_key, expires, ws_auth_signature(secret=api_secret, expires_ms=expires)]),
                         ("subscribe", list(PRIVATE_TOPICS))):
            await ws.send(_request(WsRequest(op=op, args=args)).decode())
            reply = _private(await ws.recv())
            if reply.topic or not reply.success:
                raise RuntimeError(f"private stream {op} refused: {reply}")
        frames = [0]

        async def read() -> None:
            async for raw in ws:
                if _private(raw).topic:
                    frames[0] += 1

        reader = asyncio.create_task(read())
        try:
            yield frames
        finally:
            reader.cancel()
