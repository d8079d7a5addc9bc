"""Decoding that tolerates `null` where Bybit documents a string.

Bybit sends `null` for fields its documentation types as strings (recorded: `"avgPrice": null` on
orders, `"nextPageCursor": null` on the last page). The wire Structs type them as strings with a
default, so a strict decode fails on such a frame; here a frame that fails is decoded once more with
its null fields left out, so each takes its default. The fast path is the strict decode: only a frame
that fails pays for the second pass, and a frame that still fails (a required field missing or null)
raises as before.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

T = TypeVar("T")
_json = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()


def decode(decoder: msgspec.json.Decoder[T], raw: bytes | str | msgspec.Raw) -> T:
    """`decoder.decode(raw)`, retried with null fields dropped; raises msgspec.DecodeError."""
    try:
        return decoder.decode(raw)
    except msgspec.DecodeError as strict:
        try:
            cleaned = _without_nulls(_json.decode(raw))
        except msgspec.DecodeError:
            raise strict from None  # not JSON at all
        try:
            return decoder.decode(_encoder.encode(cleaned))
        except msgspec.DecodeError:
            raise strict from None  # a required field missing or null: the strict error says which


def _without_nulls(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_nulls(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_without_nulls(v) for v in node]
    return node
