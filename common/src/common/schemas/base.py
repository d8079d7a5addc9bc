"""The base of every bus message and the msgpack codec that reads and writes them."""

from __future__ import annotations

import time
import typing

import msgspec

DecodeError = msgspec.DecodeError


class Message(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """A bus message. Subclasses set `tag=` and a `v` default from their family's version."""


def now_ns() -> int:
    return time.time_ns()


_encoder = msgspec.msgpack.Encoder()
_decoder: msgspec.msgpack.Decoder | None = None


def encode(msg: Message) -> bytes:
    return _encoder.encode(msg)


def decode(raw: bytes) -> Message:
    """Decode any bus message; raises DecodeError on garbage or an unknown type."""
    global _decoder
    if _decoder is None:  # built once, after every family module has defined its Structs
        _decoder = msgspec.msgpack.Decoder(_all_message_types())
    return _decoder.decode(raw)


def _all_message_types():
    from common.schemas import execution, market, strategy, system  # noqa: F401  (registers subclasses)

    def leaves(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from leaves(sub)

    types = tuple(t for t in leaves(Message) if t.__struct_config__.tag is not None)
    return typing.Union[types]
