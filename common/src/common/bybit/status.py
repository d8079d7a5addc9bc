"""Bybit's orderStatus -> what it means for our intent: the one table, total over the documented values.

A value Bybit adds later is not guessed at: `intent_status` raises and names it, as NautilusTrader's
BybitEnumParser does, so a protocol change shows up as an error instead of an intent left hanging.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from common.bybit.enums import OrderStatus
from common.constants import IntentStatus

# None: the order is still working (or about to), so its intent is not settled yet.
INTENT_STATUS: Final = MappingProxyType({
    OrderStatus.CREATED: None,
    OrderStatus.NEW: None,
    OrderStatus.PARTIALLY_FILLED: None,
    OrderStatus.UNTRIGGERED: None,
    OrderStatus.TRIGGERED: None,  # instantaneous: becomes New at once
    OrderStatus.FILLED: IntentStatus.FILLED,
    OrderStatus.CANCELLED: IntentStatus.CANCELLED,  # with a filled qty the caller counts it as filled
    OrderStatus.PARTIALLY_FILLED_CANCELED: IntentStatus.CANCELLED,
    OrderStatus.REJECTED: IntentStatus.REJECTED,
    OrderStatus.DEACTIVATED: IntentStatus.CANCELLED,
})


def intent_status(order_status: str) -> IntentStatus | None:
    """The intent status an order in `order_status` settles at, None while it works; ValueError,
    naming the value, for a status that is not in Bybit's documented set."""
    try:
        return INTENT_STATUS[order_status]
    except KeyError:
        raise ValueError(f"unknown Bybit orderStatus {order_status!r}") from None
