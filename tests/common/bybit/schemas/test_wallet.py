"""The `wallet` topic's Struct: a recorded frame decodes."""

from __future__ import annotations

import pytest

from common.bybit.schemas.envelope import PrivateMsg
from common.bybit.ws import parse
from tests.common.bybit.recorded import frame

pytestmark = pytest.mark.unit


def test_the_wallet_topic_decodes():
    msg = parse(frame("wallet.json"))
    assert isinstance(msg, PrivateMsg) and msg.creationTime > 0
    assert msg.data[0].totalEquity == "10262.91335023"
