"""The REST envelope: an error reply keeps its retCode and retMsg, also with fields Bybit may add."""

from __future__ import annotations

import msgspec
import pytest

from common.bybit.constants import INVALID_SIGN
from common.bybit.schemas.envelope import Envelope
from tests.common.bybit.recorded import frame, with_new_fields

pytestmark = pytest.mark.unit


def test_an_error_reply_decodes():
    assert msgspec.json.decode(frame("rest_error.json"), type=Envelope[msgspec.Raw]).retCode == INVALID_SIGN


def test_an_error_reply_with_new_fields_keeps_its_code_and_message():
    reply = msgspec.json.decode(with_new_fields(frame("rest_error.json")), type=Envelope[msgspec.Raw])
    # as the connector reads every reply first
    assert (reply.retCode, reply.time) == (INVALID_SIGN, 1672211928338)
    assert reply.retMsg.startswith("error sign!")
