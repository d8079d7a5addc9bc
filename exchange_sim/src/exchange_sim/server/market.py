"""Public market endpoints: /v5/market/{time, instruments-info, tickers, orderbook, kline, recent-trade}."""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.bybit.enums import Category
from common.bybit.schemas.envelope import Paged, ServerTime
from common.bybit.schemas.kline import KlineResult
from common.bybit.schemas.orderbook import Orderbook

from exchange_sim.server import paging, render
from exchange_sim.server.render import TRADING
from exchange_sim.server import params as p
from exchange_sim.server.rest import Route

if TYPE_CHECKING:
    from exchange_sim.server.sim import Sim

INTERVALS = ("1", "3", "5", "15", "30", "60", "120", "240", "360", "720", "D", "W", "M")


async def server_time(sim: Sim, q: dict[str, str]) -> ServerTime:
    now = sim.now_ms()
    return ServerTime(timeSecond=str(now // 1000), timeNano=str(now * 1_000_000))


async def instruments(sim: Sim, q: dict[str, str]) -> Paged:
    """Instruments by symbol, paged (limit [1, 1000], default 500), filtered by `status`: every listed
    symbol here is Trading, so another status lists none
    (https://bybit-exchange.github.io/docs/v5/market/instrument)."""
    if not p.lists_category(q.get("category")):
        return Paged(list=[], category=q["category"])
    symbol = p.symbol(sim, q.get("symbol"), required=False)
    status = q.get("status") or TRADING
    rows = sorted(s for s in sim.exchange.instruments if symbol in (None, s) and status == TRADING)
    rows, cursor = paging.page(rows, q, limits=paging.INSTRUMENTS, key=lambda s: s)
    return Paged(list=[render.instrument(sim.exchange.instruments[s], launch_ms=sim.started_ms) for s in rows],
                 nextPageCursor=cursor)


async def tickers(sim: Sim, q: dict[str, str]) -> Paged:
    if not p.lists_category(q.get("category")):
        return Paged(list=[], category=q["category"])
    symbol = p.symbol(sim, q.get("symbol"), required=False)
    return Paged(list=[render.ticker(s, sim.exchange.ticker(s)) for s in sim.exchange.instruments
                       if symbol in (None, s)])


async def orderbook(sim: Sim, q: dict[str, str]) -> Orderbook:
    p.category(q.get("category"))
    symbol = p.symbol(sim, q.get("symbol"))
    limit = p.integer("limit", q.get("limit"), default=25, low=1, high=500)
    bids, asks, u, seq, ts = sim.exchange.book(symbol, limit)
    return Orderbook(s=symbol, b=[(str(a), str(b)) for a, b in bids], a=[(str(a), str(b)) for a, b in asks],
                     ts=sim.now_ms(), u=u, seq=seq, cts=ts)


async def kline(sim: Sim, q: dict[str, str]) -> KlineResult:
    p.category(q.get("category", Category.LINEAR))
    symbol = p.symbol(sim, q.get("symbol"))
    interval = p.choice("interval", q.get("interval"), INTERVALS)
    limit = p.integer("limit", q.get("limit"), default=200, low=1, high=1000)
    end = p.integer("end", q.get("end"), default=0, low=0, high=2**63)
    rows = sim.exchange.klines(symbol, interval, limit, end or None)
    return KlineResult(symbol=symbol, category=Category.LINEAR,
                       list=[tuple(str(x) for x in row) for row in rows])


async def recent_trade(sim: Sim, q: dict[str, str]) -> Paged:
    p.category(q.get("category"))
    symbol = p.symbol(sim, q.get("symbol"))
    limit = p.integer("limit", q.get("limit"), default=500, low=1, high=1000)
    return Paged(list=[render.recent_trade(t) for t in sim.exchange.recent_trades(symbol, limit)])


# This module's part of the REST surface; app.py assembles the modules' tables.
ROUTES = (
    Route("GET", "/v5/market/time", server_time, auth=False),
    Route("GET", "/v5/market/instruments-info", instruments, auth=False),
    Route("GET", "/v5/market/tickers", tickers, auth=False),
    Route("GET", "/v5/market/orderbook", orderbook, auth=False),
    Route("GET", "/v5/market/kline", kline, auth=False),
    Route("GET", "/v5/market/recent-trade", recent_trade, auth=False),
)
