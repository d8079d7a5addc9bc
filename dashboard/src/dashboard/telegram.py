"""Telegram Bot API sendMessage and getUpdates (long polling); the base URL is a setting so tests talk to a
local fake."""

from __future__ import annotations

import httpx

SEND_TIMEOUT_S = 10.0
POLL_MARGIN_S = 10.0  # a long poll's HTTP timeout: the poll's own wait plus this


class TelegramError(Exception):
    """A call the API did not accept (a message that did not go out: the alert engine retries it)."""


class Telegram:
    """A Bot API client for one chat; unconfigured (no token or chat) it sends nothing."""

    def __init__(self, *, base_url: str, token: str, chat_id: str) -> None:
        self.configured = bool(token and chat_id)
        self.chat_id = chat_id
        self._client = httpx.AsyncClient(
            base_url=f"{base_url.rstrip('/')}/bot{token}", timeout=SEND_TIMEOUT_S
        )

    async def send(self, text: str) -> None:
        """Raises TelegramError (never with the token in it) when the API did not accept the message."""
        message = {"chat_id": self.chat_id, "text": text, "disable_web_page_preview": True}
        await self._call("sendMessage", message, timeout_s=SEND_TIMEOUT_S)

    async def updates(self, *, offset: int | None, timeout_s: int) -> list[dict]:
        """getUpdates: the messages from `offset` on (confirming every earlier one), waiting up to
        `timeout_s` for one to arrive (long polling). Raises TelegramError like `send`."""
        params = {"timeout": timeout_s, "allowed_updates": ["message"]}
        if offset is not None:
            params["offset"] = offset
        result = await self._call("getUpdates", params, timeout_s=timeout_s + POLL_MARGIN_S)
        if not isinstance(result, list):
            raise TelegramError("getUpdates answered no list")
        return result

    async def _call(self, method: str, params: dict, *, timeout_s: float):
        """One Bot API method; its `result`, or TelegramError when the API did not answer ok."""
        try:
            r = await self._client.post(f"/{method}", json=params, timeout=timeout_s)
        except httpx.HTTPError as e:
            raise TelegramError(type(e).__name__) from None
        try:
            body = r.json()
            ok = r.status_code == 200 and body.get("ok", False) is True
        except (ValueError, AttributeError):
            ok = False
        if not ok:
            raise TelegramError(f"HTTP {r.status_code}")
        return body.get("result")

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()
