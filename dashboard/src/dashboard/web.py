"""uvicorn embedded in the service's own event loop, so the runner owns signals and shutdown."""

from __future__ import annotations

import asyncio
import contextlib

import uvicorn
from fastapi import FastAPI

from common.health import Progress
from common.lifecycle import Runtime


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signals to the runner and proves progress on every tick."""

    def __init__(self, config: uvicorn.Config, progress: Progress) -> None:
        super().__init__(config)
        self.progress = progress

    def capture_signals(self):
        return contextlib.nullcontext()

    async def on_tick(self, counter: int) -> bool:
        self.progress.beat()
        return await super().on_tick(counter)


def serve_task(rt: Runtime, app: FastAPI):
    """A runner task serving `app` on WEB_HOST:WEB_PORT until the runtime stops."""

    async def run(progress: Progress) -> None:
        config = uvicorn.Config(app, host=rt.settings.web_host, port=rt.settings.web_port, log_config=None,
                                access_log=False, lifespan="off")
        server = EmbeddedServer(config, progress)

        async def stop_when_asked() -> None:
            await rt.stopping.wait()
            server.should_exit = True

        watcher = asyncio.create_task(stop_when_asked())
        try:
            await server.serve()
        except SystemExit as e:  # uvicorn exits the process when it cannot bind
            raise RuntimeError(f"web server could not start on {config.host}:{config.port}") from e
        finally:
            watcher.cancel()
        if not rt.stopping.is_set():
            raise RuntimeError("web server stopped by itself")

    return run
