"""Operator commands on sys.control, as scalperctl and the dashboard send them."""

from __future__ import annotations

import uuid

import redis.asyncio as aioredis

from common import constants as c
from common.schemas import Command, ControlCommand, encode, now_ns

CONTROL_MAXLEN = 10_000


async def send_control(
    redis: aioredis.Redis,
    *,
    command: Command,
    target: str = "*",
    issued_by: str,
    args: dict[str, str] | None = None,
) -> str:
    """Publish one command (safe mode also goes to SAFE_MODE_KEY for late starters); returns its entry id."""
    if command in (Command.SAFE_MODE_ON, Command.SAFE_MODE_OFF):
        await redis.set(c.SAFE_MODE_KEY, "1" if command is Command.SAFE_MODE_ON else "0")
    cmd = ControlCommand(
        command_id=uuid.uuid4().hex,
        command=command,
        target=target,
        args=args or {},
        issued_by=issued_by,
        ts_ns=now_ns(),
    )
    entry = await redis.xadd(
        c.SYS_CONTROL, {c.PAYLOAD_FIELD: encode(cmd)}, maxlen=CONTROL_MAXLEN, approximate=True
    )
    return entry.decode()
