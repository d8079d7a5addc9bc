"""The connector's two error classes: what Bybit said (BybitError) and what the network did.

The simulator raises the same BybitError for a request Bybit would refuse, so a retCode has one shape
from the matching engine to the connector's caller.
"""

from __future__ import annotations

from common.bybit import constants as k


class BybitError(Exception):
    """A non-zero retCode from Bybit (or the simulator), with its retMsg."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"Bybit retCode {code}: {message}")
        self.code = code
        self.message = message


class BybitNetworkError(Exception):
    """No usable answer (timeout, connection lost, HTTP 5xx). `ambiguous` means the request may
    have been applied anyway: an order submit that must be reconciled by orderLinkId, not resent blind."""

    def __init__(self, message: str, *, ambiguous: bool) -> None:
        super().__init__(message)
        self.ambiguous = ambiguous


def should_retry(error: Exception) -> bool:
    """True when backing off and repeating the same request is safe and may succeed."""
    if isinstance(error, BybitError):
        return error.code in k.RETRY_CODES
    return isinstance(error, BybitNetworkError) and not error.ambiguous
