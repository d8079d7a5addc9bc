"""The admin endpoints: read and flip fault switches, read the simulator's status.

Reachable with the account's Bybit signature, or with the admin token from a loopback address.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
from common.bybit import constants as k
from common.bybit.errors import BybitError

from exchange_sim.server.faults import FaultPatch, Faults, patched
from exchange_sim.server.rest import Route

if TYPE_CHECKING:
    from exchange_sim.server.sim import Sim


class Status(msgspec.Struct, kw_only=True):
    faults: Faults
    symbols: list[str]
    market_steps: int
    public_connections: int
    private_connections: int
    replay_done: bool | None = None  # None when the market comes from the generator
    replay_events: int = 0
    requests: dict[str, int] = {}  # signed REST calls per path since the start (which endpoints a client uses)


async def get_faults(sim: Sim, q: dict[str, str]) -> Faults:
    return sim.faults


async def set_faults(sim: Sim, patch: FaultPatch) -> Faults:
    try:
        sim.faults = patched(sim.faults, patch)
    except ValueError as e:
        raise BybitError(k.PARAMS_ERROR, str(e)) from None
    for kind in patch.drop:
        if kind not in ("public", "private"):
            raise BybitError(k.PARAMS_ERROR, f"drop: {kind!r} is neither public nor private")
        sim.hub.drop(private=kind == "private")
    return sim.faults


async def status(sim: Sim, q: dict[str, str]) -> Status:
    private = sum(c.private for c in sim.hub.conns)
    replay = sim.replay
    return Status(faults=sim.faults, symbols=list(sim.exchange.instruments), market_steps=sim.feed.steps,
                  public_connections=len(sim.hub.conns) - private, private_connections=private,
                  replay_done=None if replay is None else replay.done,
                  replay_events=0 if replay is None else replay.released, requests=dict(sim.requests))


# This module's part of the REST surface; app.py assembles the modules' tables.
ROUTES = (
    Route("GET", "/admin/faults", get_faults, auth=True, admin=True),
    Route("POST", "/admin/faults", set_faults, auth=True, params=FaultPatch, admin=True),
    Route("GET", "/admin/status", status, auth=True, admin=True),
)
