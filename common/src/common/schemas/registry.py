"""Every tagged bus message, gathered from the family modules, and the one decoder that reads them all.

Built explicitly from each family's MESSAGES (no registration by import side effect), so a message
type exists for the decoder exactly when its family lists it.
"""

from __future__ import annotations

import typing

import msgspec

from common.schemas import execution, market, strategy, system
from common.schemas.base import Message

MESSAGE_TYPES: tuple[type[Message], ...] = (
    market.MESSAGES + strategy.MESSAGES + execution.MESSAGES + system.MESSAGES
)

_decoder = msgspec.msgpack.Decoder(typing.Union[MESSAGE_TYPES])


def decode(raw: bytes) -> Message:
    """Decode any bus message; raises DecodeError on garbage or an unknown type."""
    return _decoder.decode(raw)
