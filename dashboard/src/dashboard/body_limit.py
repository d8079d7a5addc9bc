"""Request bodies capped before anything parses them: WEB_MAX_BODY_KIB for a request with a session
cookie, a sixteenth of it (at most 16 KiB) for an anonymous one, whose only form is the login.

A declared Content-Length over the cap is answered 413 at once; a body sent without one (chunked) is
counted as it arrives and cut off with 413 when it passes the cap.
"""

from __future__ import annotations

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dashboard.auth.session import SESSION_COOKIE

ANONYMOUS_MAX_BYTES = 16 * 1024


class BodyTooLarge(Exception):
    """The body passed the cap while it was being read."""


class BodyLimit:
    """ASGI middleware: 413 for a request body over the cap."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    def _cap(self, scope: Scope) -> int:
        cookies = b"".join(v for k, v in scope["headers"] if k == b"cookie")
        has_session = SESSION_COOKIE.encode() + b"=" in cookies
        return self.max_bytes if has_session else min(self.max_bytes // 16, ANONYMOUS_MAX_BYTES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self._cap(scope)
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > cap):
            await _too_large(scope, receive, send, cap)
            return
        seen, started = 0, False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise BodyTooLarge()
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except BodyTooLarge:
            if not started:
                await _too_large(scope, receive, send, cap)


async def _too_large(scope: Scope, receive: Receive, send: Send, cap: int) -> None:
    """The 413 answer, naming the cap."""
    response = PlainTextResponse(f"request body larger than {cap // 1024} KiB", status_code=413)
    await response(scope, receive, send)
