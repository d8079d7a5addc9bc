"""Telegram Bot API sendMessage; the base URL is a setting so tests talk to a local fake."""

from __future__ import annotations

import httpx

SEND_TIMEOUT_S = 10.0


class TelegramError(Exception):
    """A message that did not go out; the alert engine retries it."""


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
        try:
            r = await self._client.post(
                "/sendMessage", json={"chat_id": self.chat_id, "text": text, "disable_web_page_preview": True}
            )
        except httpx.HTTPError as e:
            raise TelegramError(type(e).__name__) from None
        try:
            ok = r.status_code == 200 and r.json().get("ok", False) is True
        except ValueError:
            ok = False
        if not ok:
            raise TelegramError(f"HTTP {r.status_code}")

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()
