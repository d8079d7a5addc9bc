"""The base of every bus message and its msgpack encoder.

Decoding needs every message type, so it lives in `registry.py`, above the family modules.
"""

from __future__ import annotations

import time

import msgspec

DecodeError = msgspec.DecodeError


class Message(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """A bus message. Subclasses set `tag=` and a `v` default from their family's version."""


def now_ns() -> int:
    return time.time_ns()


_encoder = msgspec.msgpack.Encoder()


def encode(msg: Message) -> bytes:
    return _encoder.encode(msg)
