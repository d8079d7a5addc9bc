"""The aiohttp app serving the simulator's REST and WS on one port, and its market loop."""

from __future__ import annotations

import asyncio

from aiohttp import web

from exchange_sim.server import account, admin, market, rest, trade, ws
from exchange_sim.server.sim import Sim

# The whole REST surface, module by module.
ROUTES = (*market.ROUTES, *trade.ROUTES, *account.ROUTES, *admin.ROUTES)


def create_app(sim: Sim) -> web.Application:
    """The app for `sim`: REST and WS routes, and the market loop for as long as the app runs."""
    app = web.Application()
    app["sim"] = sim
    rest.add_routes(app, sim, routes=ROUTES)
    ws.add_routes(app, sim)

    async def market_loop(app: web.Application):
        sim.feed.tick(sim.now_ms())  # a book and a last price exist before the first client arrives
        task = asyncio.create_task(sim.feed.run())
        yield
        task.cancel()
        for conn in list(sim.hub.conns):
            await conn.ws.close()

    app.cleanup_ctx.append(market_loop)
    return app
