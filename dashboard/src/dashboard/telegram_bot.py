"""The Telegram bot: reads commands by long polling getUpdates, answers those of the admin chat, audits all.

getUpdates is called with offset = the last update_id + 1 (which confirms every earlier update to
Telegram) and waits up to TELEGRAM_POLL_TIMEOUT_S for a message. The next offset is written to Redis
(TELEGRAM_OFFSET_KEY) before an update is handled, so a restarted dashboard never handles one twice (a
crash while handling loses that one command rather than repeating it). Only TELEGRAM_CHAT_ID, the admin
chat, is answered: a message from any other chat is logged and audited as ignored, and nothing else
happens. Every command goes to the audit log like a dashboard action, with the Telegram user as actor.
A Telegram or Redis failure waits a capped backoff and polls again: the bot never stops the dashboard.
"""

from __future__ import annotations

import asyncio
import logging

import redis.asyncio as aioredis
from common.control import send_control
from common.health import Progress
from common.schemas import Command
from redis.backoff import EqualJitterBackoff

from common import constants as c
from dashboard.auth.audit import Audit
from dashboard.bot_replies import HELP, LEAVE_SAFE_REFUSED, Replies
from dashboard.telegram import Telegram, TelegramError

log = logging.getLogger(__name__)
RETRY_BASE_S = 1.0
RETRY_CAP_S = 30.0
SHOWN_CHARS = 64  # of a command from a foreign chat, in the log and the audit
SAFE_ON = ("", "on")
SAFE_ENTERED = ("Safe mode ON for every service: no new entries; open positions keep their TP and SL. "
                "Leaving safe mode is a dashboard action (the Safe mode page).")


def _error(e: Exception) -> str:
    """What a failure is called in logs and answers (a TelegramError never carries the token)."""
    return str(e) if isinstance(e, TelegramError) else type(e).__name__


class TelegramBot:
    """The admin chat's commands, one getUpdates long poll at a time."""

    def __init__(self, *, telegram: Telegram, redis: aioredis.Redis, replies: Replies, audit: Audit,
                 poll_timeout_s: int) -> None:
        self.telegram, self.redis, self.replies, self.audit = telegram, redis, replies, audit
        self.admin_chat = telegram.chat_id
        self.poll_timeout_s = poll_timeout_s
        self._offset: int | None = None
        self._backoff = EqualJitterBackoff(cap=RETRY_CAP_S, base=RETRY_BASE_S)

    async def run(self, _progress: Progress) -> None:
        """Poll for ever; a failure is logged and retried after a backoff."""
        failures = 0
        while True:
            try:
                await self.poll_once()
                failures = 0
            except Exception as e:  # noqa: BLE001 - whatever Telegram or Redis does, the bot carries on
                failures += 1
                log.warning("telegram_poll_failed", extra={"ctx": {"error": _error(e), "failures": failures}})
                await asyncio.sleep(self._backoff.compute(failures))

    async def poll_once(self) -> None:
        """One getUpdates from the kept offset, each new update handled in order after its offset is kept."""
        if self._offset is None:
            kept = await self.redis.get(c.TELEGRAM_OFFSET_KEY)
            self._offset = int(kept) if kept else None
        for update in await self.telegram.updates(offset=self._offset, timeout_s=self.poll_timeout_s):
            update_id = update.get("update_id")
            if not isinstance(update_id, int) or (self._offset is not None and update_id < self._offset):
                continue  # already handled: never twice
            await self.redis.set(c.TELEGRAM_OFFSET_KEY, update_id + 1)
            self._offset = update_id + 1
            await self.handle(update.get("message") or {})

    async def handle(self, message: dict) -> None:
        """Answer a message of the admin chat (audited); log and audit any other chat's, answer nothing."""
        chat = str((message.get("chat") or {}).get("id", ""))
        sender = message.get("from") or {}
        user = f"telegram:{sender.get('username') or sender.get('id', 'unknown')}"
        command, _, args = (message.get("text") or "").strip().partition(" ")
        command = command.split("@", 1)[0].lower()  # "/status@ScalperBot" in a group
        if chat != self.admin_chat:
            shown = command[:SHOWN_CHARS]
            foreign = {"chat": chat, "user": user, "command": shown}
            log.warning("telegram_foreign_chat", extra={"ctx": foreign})
            self.audit.record(user=user, action=f"telegram {shown}", client=f"telegram chat {chat}",
                              outcome="ignored", detail="not the admin chat (TELEGRAM_CHAT_ID): no answer")
            return
        try:
            answer, action, outcome, detail = await self._answer(command, args.strip().lower(), user)
        except Exception as e:  # noqa: BLE001 - a figure that cannot be read is an answer, not a dead bot
            answer, action, outcome, detail = (f"Failed ({_error(e)}): try again, or see the dashboard.",
                                               f"telegram {command}", "failed", _error(e))
        self.audit.record(user=user, action=action, client=f"telegram chat {chat}", outcome=outcome,
                          detail=detail)
        try:
            await self.telegram.send(answer)
        except TelegramError as e:
            log.warning("telegram_answer_failed", extra={"ctx": {"command": command, "error": str(e)}})

    async def _answer(self, command: str, args: str, user: str) -> tuple[str, str, str, str]:
        """(answer, audit action, outcome, detail) of one command."""
        reads = {"/status": self.replies.status, "/pnl": self.replies.pnl,
                 "/positions": self.replies.positions}
        if command in reads:
            return await reads[command](), f"telegram {command}", "ok", ""
        if command == "/alerts":
            return self.replies.alerts_text(), "telegram /alerts", "ok", ""
        if command == "/safe":
            return await self._safe(args, user)
        return HELP, f"telegram {command[:SHOWN_CHARS]}", "unknown", ""

    async def _safe(self, args: str, user: str) -> tuple[str, str, str, str]:
        """/safe enters operator safe mode the way the dashboard's button does; leaving it is refused."""
        if args not in SAFE_ON:
            action = Command.SAFE_MODE_OFF.value if args == "off" else "telegram /safe"
            detail = f"/safe {args[:SHOWN_CHARS]}: only entering safe mode is allowed here"
            return LEAVE_SAFE_REFUSED, action, "refused", detail
        entry = await send_control(self.redis, command=Command.SAFE_MODE_ON, target="*", issued_by=user)
        return SAFE_ENTERED, Command.SAFE_MODE_ON.value, "ok", f"target *, entry {entry}"
