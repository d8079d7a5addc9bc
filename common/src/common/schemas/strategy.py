"""strategy.signals.

SCHEMA_VERSION changelog:
  1: first version.
"""

from __future__ import annotations

from common.schemas.base import Message

SCHEMA_VERSION = 1


class Signal(Message, frozen=True, kw_only=True, tag="signal"):
    """A scored, explainable decision about one symbol and side."""

    v: int = SCHEMA_VERSION
    signal_id: str
    symbol: str
    side: str  # "Buy" | "Sell"
    score: float
    components: dict[str, float]  # each weighted part of the score
    reasons: list[str]
    profile: str
    profile_version: int
    state: str = ""  # the symbol's state machine state after this signal
    exchange_ts_ns: int  # of the market message that produced it
    received_ts_ns: int
    published_ts_ns: int = 0


# The tagged messages of this family, for the registry (common.schemas.registry).
MESSAGES: tuple[type[Message], ...] = (Signal,)
