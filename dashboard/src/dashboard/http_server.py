"""uvicorn embedded in the service's own event loop, so the runner owns signals and shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket

import uvicorn
from common.health import Progress
from common.lifecycle import Runtime
from fastapi import FastAPI

log = logging.getLogger(__name__)
SD_LISTEN_FDS_START = 3  # sd_listen_fds(3): the first socket systemd passes
ACCEPTED_GRACE_S = 0.25  # at a stop, how long a connection accepted just before has to send its request


def systemd_socket() -> socket.socket | None:
    """The listening socket systemd passed (socket activation), so a restart refuses no connection."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()) or int(os.environ.get("LISTEN_FDS", "0")) < 1:
        return None
    return socket.socket(fileno=SD_LISTEN_FDS_START)


def systemd_socket_host() -> str | None:
    """The address of the socket systemd passes (None without one), read without taking the socket."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()) or int(os.environ.get("LISTEN_FDS", "0")) < 1:
        return None
    sock = socket.socket(fileno=SD_LISTEN_FDS_START)
    try:
        address = sock.getsockname()
    finally:
        sock.detach()  # the fd stays open for systemd_socket()
    return address[0] if isinstance(address, tuple) else "localhost"  # an AF_UNIX socket is local


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signals to the runner and proves progress on every tick."""

    def __init__(self, config: uvicorn.Config, progress: Progress) -> None:
        super().__init__(config)
        self.progress = progress

    def capture_signals(self):
        """Leave signals to the service runner."""
        return contextlib.nullcontext()

    async def on_tick(self, counter: int) -> bool:
        """Prove progress on every tick."""
        self.progress.beat()
        return await super().on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Stop accepting, then give the connections accepted last ACCEPTED_GRACE_S to send their request
        before uvicorn closes the idle ones. uvicorn does both at once, so a connection accepted as the
        stop began was reset with its request unread; on systemd's socket the kernel now queues every
        later connection for the next instance, and none is refused across a restart."""
        for server in self.servers:
            server.close()
        await asyncio.sleep(ACCEPTED_GRACE_S)
        await super().shutdown(sockets)


def serve_task(rt: Runtime, app: FastAPI):
    """A runner task serving `app` until the runtime stops: on systemd's socket when it passed one,
    else on WEB_HOST:WEB_PORT."""

    async def run(progress: Progress) -> None:
        config = uvicorn.Config(
            app,
            host=rt.settings.web_host,
            port=rt.settings.web_port,
            log_config=None,
            access_log=False,
            lifespan="off",
            proxy_headers=False,  # only WEB_TRUSTED_PROXIES are believed (auth/proxy.py)
            server_header=False,
        )
        server = EmbeddedServer(config, progress)
        sock = systemd_socket()
        if sock is not None:
            log.info("listening_on_systemd_socket", extra={"ctx": {"address": str(sock.getsockname())}})

        async def stop_when_asked() -> None:
            await rt.stopping.wait()
            server.should_exit = True

        watcher = asyncio.create_task(stop_when_asked())
        try:
            await server.serve(sockets=[sock] if sock is not None else None)
        except SystemExit as e:  # uvicorn exits the process when it cannot bind
            raise RuntimeError(f"web server could not start on {config.host}:{config.port}") from e
        finally:
            watcher.cancel()
        if not rt.stopping.is_set():
            raise RuntimeError("web server stopped by itself")

    return run
