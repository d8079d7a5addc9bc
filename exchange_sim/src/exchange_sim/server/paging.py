"""Bybit's cursor paging for list endpoints: a page of `limit` rows (Bybit's default and maximum per
endpoint) and an opaque `nextPageCursor` naming the last row sent.

Bybit's cursors come already percent-encoded (e.g. "page_args%3D...%26symbol%3D6%26"): a client sends
them back exactly as received, so the query string carries the encoded form and the decoded value the
server reads is "page_args=...&symbol=...". A cursor encoded once more no longer decodes to that and is
refused, as a cursor this server never issued.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar
from urllib.parse import parse_qs, quote

from common.bybit import constants as k
from common.bybit.errors import BybitError

from exchange_sim.server import params as p

T = TypeVar("T")


class Limits:
    """An endpoint's `limit`: its default and its maximum, from the endpoint's page of Bybit's docs."""

    def __init__(self, *, default: int, maximum: int) -> None:
        self.default, self.maximum = default, maximum


# https://bybit-exchange.github.io/docs/v5/order/open-order: limit [1, 50], default 20
OPEN_ORDERS = Limits(default=20, maximum=50)
# https://bybit-exchange.github.io/docs/v5/order/order-list: limit [1, 50], default 20
ORDER_HISTORY = Limits(default=20, maximum=50)
# https://bybit-exchange.github.io/docs/v5/position: limit [1, 200], default 20
POSITIONS = Limits(default=20, maximum=200)
# https://bybit-exchange.github.io/docs/v5/order/execution: limit [1, 100], default 50
EXECUTIONS = Limits(default=50, maximum=100)
# https://bybit-exchange.github.io/docs/v5/market/instrument: limit [1, 1000], default 500
INSTRUMENTS = Limits(default=500, maximum=1000)


def cursor_for(key: str) -> str:
    """The opaque, percent-encoded cursor that resumes after the row whose key is `key`."""
    return quote(f"page_args={key}&symbol={len(key)}&", safe="")


def _after(value: str) -> str:
    """The row key a received (decoded) cursor names; 10001 for anything this server did not issue."""
    args = parse_qs(value, keep_blank_values=True)
    key = args.get("page_args", [""])[0]
    if not key or args.get("symbol") != [str(len(key))]:
        raise BybitError(k.PARAMS_ERROR, f"params error: cursor [{value[:80]}] is invalid")
    return key


def page(rows: Sequence[T], q: dict[str, str], *, limits: Limits, key: Callable[[T], str]) -> tuple[list[T], str]:
    """(this page's rows, nextPageCursor or ""). `rows` come in the endpoint's order and `key` is unique
    per row; a cursor resumes after its row, so rows added or removed meanwhile neither repeat nor shift."""
    limit = p.integer("limit", q.get("limit"), default=limits.default, low=1, high=limits.maximum)
    start = 0
    if q.get("cursor"):
        last = _after(q["cursor"])
        keys = [key(r) for r in rows]
        start = keys.index(last) + 1 if last in keys else _resume(keys, last)
    chunk = list(rows[start:start + limit])
    more = start + limit < len(rows)
    return chunk, cursor_for(key(chunk[-1])) if more and chunk else ""


def _resume(keys: list[str], last: str) -> int:
    """The cursor's row is gone (e.g. an order that closed): resume at the first row ordered after it.
    Keys are ordered as the rows are (ascending or descending), so the direction is read from them."""
    descending = len(keys) > 1 and keys[0] > keys[-1]
    for i, kk in enumerate(keys):
        if (kk < last) if descending else (kk > last):
            return i
    return len(keys)
