"""Recorded Bybit frames for the wire Struct tests: frames/ holds payloads as Bybit documents them."""

from __future__ import annotations

import json
from pathlib import Path

FRAMES = Path(__file__).parent / "frames"


def frame(name: str) -> bytes:
    return (FRAMES / name).read_bytes()


def with_new_fields(raw: bytes) -> bytes:
    """The frame as a later Bybit might send it: an unknown field (of a shape no field here has) in the
    envelope and in every object of the payload. `retExtInfo` is a free-form map, so it is left alone."""
    def grow(node):
        if isinstance(node, dict):
            grown = {k: v if k == "retExtInfo" else grow(v) for k, v in node.items()}
            return grown | {"addedByBybit": {"nested": [1, "two", None]}}
        if isinstance(node, list):
            return [grow(v) for v in node]
        return node
    return json.dumps(grow(json.loads(raw))).encode()
