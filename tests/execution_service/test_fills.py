"""No fill is lost: executions are read over REST from a persisted watermark that only a complete REST
read moves, deduplicated by execId; a first boot does not replay history to the strategy."""

from __future__ import annotations

import pytest

from common import constants as c
from common.schemas import FillEvent, decode
from tests.support import wait_until

pytestmark = pytest.mark.service


def _fills(execution) -> list[FillEvent]:
    return [m for m in (decode(f[c.PAYLOAD_FIELD]) for _, f in execution.r.xrange(c.EXEC_EVENTS))
            if isinstance(m, FillEvent)]


def _market(execution, symbol: str, link: str) -> None:
    execution.post("/v5/order/create", {"symbol": symbol, "side": "Buy", "orderType": "Market",
                                        "qty": "0.01" if symbol == "ETHUSDT" else "0.001", "orderLinkId": link})


def test_a_fill_missed_during_a_ws_drop_is_fetched_after_a_newer_fill_came_over_the_stream(execution):
    """A fills on ETHUSDT while the private stream is down; the stream comes back while REST is slow, and
    B fills on BTCUSDT and comes over the stream before recovery's REST read: A still reaches exec.events,
    once (today's "newest fill seen minus a second" started after A and lost it)."""
    execution.start().wait_state("NORMAL")
    execution.faults(drop=["private"], ws_private_silent=True)
    wait_until(lambda: "ws" in execution.state().get("holds", {}), timeout=20, what="the private WS hold")
    _market(execution, "ETHUSDT", "fill-a")
    execution.faults(ws_private_silent=False, rest_delay_ms=2_500)  # recovery's REST reads come late
    wait_until(lambda: "ws" not in execution.state().get("holds", {}), timeout=20, what="the stream back")
    _market(execution, "BTCUSDT", "fill-b")
    wait_until(lambda: any(f.order_link_id == "fill-b" for f in _fills(execution)), timeout=20,
               what="B over the stream")
    execution.faults(rest_delay_ms=0)
    execution.wait_state("NORMAL", timeout=60)
    wait_until(lambda: any(f.order_link_id == "fill-a" for f in _fills(execution)), timeout=30,
               what="A's fill, read over REST from the watermark")
    links = [f.order_link_id for f in _fills(execution)]
    assert links.count("fill-a") == 1 and links.count("fill-b") == 1
    assert int(execution.r.get(c.EXEC_FILLS_WATERMARK_KEY)) > 0


def test_a_first_boot_records_history_without_replaying_it(execution):
    _market(execution, "ETHUSDT", "before-first-boot")
    execution.start().wait_state("NORMAL")
    _market(execution, "ETHUSDT", "after-boot")
    wait_until(lambda: any(f.order_link_id == "after-boot" for f in _fills(execution)), timeout=20,
               what="the fill made after boot")
    assert [f.order_link_id for f in _fills(execution)] == ["after-boot"]
