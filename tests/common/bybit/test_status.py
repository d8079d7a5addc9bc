"""Bybit's orderStatus -> our intent status: the table covers every documented value and names any other."""

from __future__ import annotations

import pytest

from common.bybit.enums import OPEN_STATUSES, OrderStatus
from common.bybit.status import INTENT_STATUS, intent_status
from common.constants import IntentStatus

pytestmark = pytest.mark.unit


def test_every_documented_status_has_a_row():
    assert set(INTENT_STATUS) == set(OrderStatus)


def test_open_orders_leave_the_intent_unsettled():
    assert {s for s in OrderStatus if intent_status(s) is None} == OPEN_STATUSES | {OrderStatus.TRIGGERED}


@pytest.mark.parametrize(("wire", "ours"), [
    ("Filled", IntentStatus.FILLED),
    ("Cancelled", IntentStatus.CANCELLED),
    ("Deactivated", IntentStatus.CANCELLED),
    ("PartiallyFilledCanceled", IntentStatus.CANCELLED),
    ("Rejected", IntentStatus.REJECTED),
    ("New", None),
])
def test_wire_strings_map_as_the_execution_service_settles_them(wire, ours):
    assert intent_status(wire) == ours


def test_an_unknown_status_raises_naming_it():
    with pytest.raises(ValueError, match="unknown Bybit orderStatus 'Expired'"):
        intent_status("Expired")
