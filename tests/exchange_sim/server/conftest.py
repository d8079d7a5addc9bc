"""The simulator fixture: a real process on a real socket (tests.support.start_sim), with an admin token;
and the connector clients the tests talk to it with."""

from __future__ import annotations

import pytest
from common.bybit.enums import Category, OrderType, Side
from common.bybit.http import BybitHttp
from common.bybit.rest import BybitRest
from common.bybit.schemas.order import PlaceOrderParams

from tests.support import start_sim


@pytest.fixture
def sim(tmp_path):
    s = start_sim("--admin-token", "admintoken", tmp_path=tmp_path)
    yield s
    s.stop()


def rest(sim, **kw) -> BybitRest:
    """A connector REST client signed with the simulator's account."""
    return BybitRest(BybitHttp(base_url=sim.rest, api_key=sim.key, api_secret=sim.secret, **kw))


def order(**kw) -> PlaceOrderParams:
    """A market buy of 0.001 BTCUSDT, with `kw` overriding any field."""
    return PlaceOrderParams(**{"category": Category.LINEAR, "symbol": "BTCUSDT", "side": Side.BUY,
                               "orderType": OrderType.MARKET, "qty": "0.001", **kw})
