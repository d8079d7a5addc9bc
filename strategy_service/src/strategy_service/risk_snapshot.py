"""The risk snapshot: what the engine has accounted from exec.events, and up to which entry.

exec.events is trimmed, so replaying it cannot be the memory of equity or of the kill switch: a
restart loads this snapshot and counts only the entries after `entry_id`. Older entries still
rebuild positions and states, but their fills are never counted twice, and an operator's kill-switch
reset (saved here) is not undone by replaying the fills that tripped it.
"""

from __future__ import annotations

import msgspec

from strategy_service.risk import RiskState

NO_ENTRY = "0-0"  # a stream id below every real one: nothing accounted yet


class Ledger(msgspec.Struct, array_like=True):
    """One symbol's position from our fills, to price the fill that closes it."""

    pos: float
    avg: float
    trade_pnl: float


class RiskSnapshot(msgspec.Struct, kw_only=True):
    entry_id: str  # the last exec.events entry accounted
    risk: RiskState
    ledgers: dict[str, Ledger]


def encode(snap: RiskSnapshot) -> bytes:
    return msgspec.json.encode(snap)


def decode(raw: bytes) -> RiskSnapshot:
    """Raises ValueError on a snapshot that cannot be read."""
    return msgspec.json.decode(raw, type=RiskSnapshot)


def newer(entry_id: str, than: str) -> bool:
    """Whether stream entry `entry_id` comes after `than` (ids are "<ms>-<seq>")."""
    return _key(entry_id) > _key(than)


def _key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)
