"""Fault switches, flipped at run time through /admin/faults (or `scalperctl sim`).

Counters (`rate_limit_burst`, `book_gap`) count down as they fire; the rest hold until cleared.
"""

from __future__ import annotations

import msgspec

AMBIGUOUS_MODES = ("", "5xx", "timeout")


class Faults(msgspec.Struct, kw_only=True):
    """The current faults. Every field's zero value means "behave normally"."""

    ws_public_silent: bool = False  # public sockets stay open but send nothing (no data, no pongs)
    ws_private_silent: bool = False  # the same for private sockets
    rest_delay_ms: int = 0  # extra delay on every REST reply
    rest_drop: bool = False  # REST requests are neither handled nor answered (clients time out)
    ambiguous_submit: str = ""  # order/create is applied, then answered with HTTP 502 ("5xx") or never
    rate_limit_burst: int = 0  # the next N private REST calls get retCode 10006
    book_gap: int = 0  # the next N orderbook deltas are not sent, so clients see `u` jump
    reject_orders: int = 0  # order/create answers this retCode (e.g. 110007) and places nothing
    clock_skew_ms: int = 0  # added to the server clock (time endpoint, envelopes, auth window)

    def check(self) -> None:
        if self.ambiguous_submit not in AMBIGUOUS_MODES:
            raise ValueError(f"ambiguous_submit must be one of {AMBIGUOUS_MODES}")
        for name in ("rest_delay_ms", "rate_limit_burst", "book_gap", "reject_orders"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")


class FaultPatch(msgspec.Struct, kw_only=True, omit_defaults=True):
    """POST /admin/faults body: fields to change (unset ones keep their value); `reset` clears all
    first; `drop` closes every socket of "public" and/or "private" now (clients must reconnect)."""

    reset: bool = False
    drop: list[str] = []
    ws_public_silent: bool | None = None
    ws_private_silent: bool | None = None
    rest_delay_ms: int | None = None
    rest_drop: bool | None = None
    ambiguous_submit: str | None = None
    rate_limit_burst: int | None = None
    book_gap: int | None = None
    reject_orders: int | None = None
    clock_skew_ms: int | None = None


def patched(current: Faults, patch: FaultPatch) -> Faults:
    """The faults after `patch`; raises ValueError on a bad value."""
    base = Faults() if patch.reset else current
    changes = {n: v for n in Faults.__struct_fields__ if (v := getattr(patch, n)) is not None}
    new = msgspec.structs.replace(base, **changes)
    new.check()
    return new
