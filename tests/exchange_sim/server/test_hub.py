"""--latency-ms delays every REST reply and every WS message the simulator sends, op replies included.

The delay is injected, so "took at least the latency" cannot flake; the run without latency checks
only that the fastest of many round trips beats it (one slow round trip on a busy machine is fine).
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
import websockets

from tests.support import start_sim

pytestmark = pytest.mark.service

LATENCY_S = 0.050
# uvloop's timers count whole milliseconds of a clock read once per loop turn, so a 50 ms sleep may end
# a little before 50 ms of wall time have passed since the request arrived (the market is kept quiet,
# --tick-ms 60000, so that turn is short).
AT_LEAST_S = LATENCY_S - 0.005
ROUNDS = 10


@pytest.fixture(params=[50, 0], ids=["latency-50ms", "latency-0"])
def timed_sim(request, tmp_path):
    sim = start_sim("--latency-ms", str(request.param), "--jitter-ms", "0", "--tick-ms", "60000",
                    tmp_path=tmp_path)
    yield sim, request.param
    sim.stop()


async def rest_round_trips(sim) -> list[float]:
    out = []
    async with httpx.AsyncClient(base_url=sim.rest, timeout=10) as client:
        for _ in range(ROUNDS):
            start = time.perf_counter()
            reply = await client.get("/v5/market/time")
            out.append(time.perf_counter() - start)
            assert reply.json()["retCode"] == 0
    return out


async def ws_round_trips(sim) -> dict[str, list[float]]:
    """Seconds from sending each op to its reply: pings (pong) and a subscribe (its ack)."""
    out: dict[str, list[float]] = {"ping": [], "subscribe": []}
    async with websockets.connect(sim.ws_public) as ws:
        for n in range(ROUNDS):
            start = time.perf_counter()
            await ws.send(json.dumps({"op": "ping", "req_id": f"p{n}"}))
            reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
            out["ping"].append(time.perf_counter() - start)
            assert (reply["op"], reply["ret_msg"], reply["req_id"]) == ("ping", "pong", f"p{n}")
        start = time.perf_counter()
        await ws.send(json.dumps({"op": "subscribe", "req_id": "s1", "args": ["tickers.BTCUSDT"]}))
        reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
        out["subscribe"].append(time.perf_counter() - start)
        assert (reply["op"], reply["req_id"], reply["success"]) == ("subscribe", "s1", True)
    return out


async def test_replies_wait_for_the_injected_latency(timed_sim):
    sim, latency_ms = timed_sim
    rest = await rest_round_trips(sim)
    ws = await ws_round_trips(sim)
    fastest = {"rest": min(rest), "ping": min(ws["ping"]), "subscribe": min(ws["subscribe"])}
    if latency_ms:
        assert all(s >= AT_LEAST_S for s in fastest.values()), fastest
    else:
        # without latency at least one of the round trips of each kind is quicker than the latency
        assert fastest["rest"] < AT_LEAST_S and fastest["ping"] < AT_LEAST_S, fastest
