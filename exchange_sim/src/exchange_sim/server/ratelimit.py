"""Per-UID, per-endpoint rate limits as Bybit applies them to linear trading, with its headers.

Bybit counts requests per second per UID and endpoint, and answers every private call with
X-Bapi-Limit (per window), X-Bapi-Limit-Status (left) and X-Bapi-Limit-Reset-Timestamp (ms).
A batch endpoint has a window of its own and spends one per order it carries; the orders beyond what
is left fail, the ones before them are placed.
https://bybit-exchange.github.io/docs/v5/rate-limit ("Instructions for batch endpoints")
"""

from __future__ import annotations

from dataclasses import dataclass

from common.bybit import constants as k

WINDOW_MS = 1_000
DEFAULT_LIMIT = 50  # queries (realtime, history, positions, executions, wallet): 50/s
LIMITS = {  # writes, per second
    "/v5/order/create": 10,
    "/v5/order/create-batch": 10,  # orders per second, not requests
    "/v5/order/amend": 10,
    "/v5/order/cancel": 10,
    "/v5/order/cancel-all": 1,
    "/v5/position/set-leverage": 10,
    "/v5/position/trading-stop": 10,
}


@dataclass
class _Window:
    start_ms: int
    used: int


class RateLimits:
    """Fixed one-second windows per (uid, path). `scale` multiplies every limit; 0 switches them off."""

    def __init__(self, *, scale: float = 1.0) -> None:
        self.scale = scale
        self._windows: dict[tuple[str, str], _Window] = {}

    def take(self, *, uid: str, path: str, now_ms: int, n: int = 1) -> tuple[int, dict[str, str]]:
        """Count a call of `n` units (a batch's orders); returns (how many of them the window still
        allows, 0..n; the X-Bapi-Limit* headers to send)."""
        if self.scale == 0:
            return n, {}
        limit = max(1, int(LIMITS.get(path, DEFAULT_LIMIT) * self.scale))
        start = now_ms - now_ms % WINDOW_MS
        w = self._windows.get((uid, path))
        if w is None or w.start_ms != start:
            w = self._windows[(uid, path)] = _Window(start_ms=start, used=0)
        granted = min(n, limit - w.used)
        w.used += granted
        return granted, {k.H_LIMIT: str(limit), k.H_LIMIT_STATUS: str(limit - w.used),
                         k.H_LIMIT_RESET: str(start + WINDOW_MS)}
