"""Server-sent events: a snapshot on every change (given a condition to wait on), at least every N s."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import msgspec
from fastapi import Request
from fastapi.responses import StreamingResponse


class EventStream(StreamingResponse):
    """The response class of SSE routes, so the OpenAPI schema documents text/event-stream."""

    media_type = "text/event-stream"


def sse(
    request: Request,
    snapshot: Callable[[], Awaitable[dict]],
    *,
    every_s: float,
    changed: asyncio.Condition | None = None,
) -> StreamingResponse:
    """An event stream of `snapshot()`: on every notify of `changed`, and at least every `every_s` s."""
    async def events():
        while not await request.is_disconnected():
            yield b"data: " + msgspec.json.encode(await snapshot()) + b"\n\n"
            if changed is None:
                await asyncio.sleep(every_s)
                continue
            async with changed:
                try:
                    await asyncio.wait_for(changed.wait(), every_s)
                except TimeoutError:
                    pass

    return EventStream(events(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
