"""Order history as Bybit serves it: behind the live state by a delay.

Bybit's order-history page says "As order creation/cancellation is asynchronous, the data returned from
this endpoint may delay. If you want to get real-time order information, you could query this endpoint
or rely on the websocket stream (recommended)"
(https://bybit-exchange.github.io/docs/v5/order/order-list), while /v5/order/realtime by orderId or
orderLinkId finds recent closed orders at once (https://bybit-exchange.github.io/docs/v5/order/open-order).
So each state of an order reaches the history `delay_ms` after it happened: until then the history
shows the order's previous state, or nothing for a new order.
"""

from __future__ import annotations

import copy
from collections import OrderedDict

from exchange_sim import engine as e

KEPT = 20_000  # orders kept, as the engine keeps its own


class LaggingHistory:
    """Every order's states with the time each one reaches the history."""

    def __init__(self, *, delay_ms: int) -> None:
        self.delay_ms = delay_ms
        self._versions: OrderedDict[str, list[tuple[int, e.Order]]] = OrderedDict()

    def record(self, order: e.Order, *, now_ms: int) -> None:
        """A new state of `order` (a copy is kept); older states already visible are dropped."""
        versions = self._versions.setdefault(order.order_id, [])
        visible = [v for v in versions if v[0] <= now_ms]
        versions[:] = visible[-1:] + [v for v in versions if v[0] > now_ms]
        versions.append((now_ms + self.delay_ms, copy.copy(order)))
        self._versions.move_to_end(order.order_id)
        while len(self._versions) > KEPT:
            self._versions.popitem(last=False)

    def orders(self, *, now_ms: int) -> list[e.Order]:
        """Each order's state as the history shows it now, newest order first."""
        out = []
        for versions in reversed(self._versions.values()):
            shown = [o for at, o in versions if at <= now_ms]
            if shown:
                out.append(shown[-1])
        out.sort(key=lambda o: o.order_id, reverse=True)
        return out
