"""dashboard.http_server: a stop (a restart on systemd's socket) answers the request of a connection
accepted just before it, instead of resetting it."""

from __future__ import annotations

import asyncio
import socket

import pytest
import uvicorn
from common.health import Progress
from fastapi import FastAPI

from dashboard.http_server import EmbeddedServer
from tests.support import free_port, wait_until_async

pytestmark = pytest.mark.unit


def app() -> FastAPI:
    a = FastAPI()

    @a.get("/healthz")
    def healthz() -> dict:
        return {"ok": True}

    return a


async def test_a_request_on_a_connection_accepted_as_the_server_stops_is_answered():
    """A client (Caddy, the socket-activation probe) connects, the server accepts, then the stop begins
    before the request's bytes are read: uvicorn alone closed that connection as idle (the client saw
    a reset, CI's systemd test "1 refused"). The server now stops accepting first, so the kernel keeps
    new connections for the next instance, and answers what reaches the connections it holds."""
    port = free_port()
    sock = socket.create_server(("127.0.0.1", port))
    server = EmbeddedServer(uvicorn.Config(app(), log_config=None, lifespan="off"), Progress("web"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    await wait_until_async(lambda: server.started, timeout=5, interval=0.005, what="the server to start")
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await wait_until_async(lambda: len(server.server_state.connections) == 1, timeout=5, interval=0.005,
                           what="the connection to be accepted")
    server.should_exit = True
    await wait_until_async(lambda: not server.servers[0].is_serving(), timeout=5, interval=0.005,
                           what="the server to stop accepting")
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: dashboard\r\n\r\n")
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), timeout=5)
    writer.close()
    await asyncio.wait_for(serving, timeout=5)
    assert status.startswith(b"HTTP/1.1 200"), status
