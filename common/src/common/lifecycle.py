"""The one runner every service uses: config -> bus -> modules -> health -> READY=1 -> stop.

A service supplies `setup(runtime)`, which registers its consumers and tasks on the Runtime; the
runner does the rest the same way for all five: uvloop, systemd notifications (without systemd too),
heartbeats, `sys.control` (safe mode, reload, restart), a watchdog that pings only while every critical task
makes progress, and SIGTERM -> stop consuming, finish and ack in-flight work, exit 0.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import socket
import sys
import uuid
from collections.abc import Awaitable, Callable
from importlib.metadata import PackageNotFoundError, version as dist_version
from pathlib import Path

import uvloop

from common import config, logs, metrics
from common import constants as c
from common.bus import REDIS_DOWN, Bus, Consumer, Flush, Handler, Prepare
from common.health import HealthState, Progress
from common.heartbeat import publish_heartbeats
from common.process_usage import own_usage
from common.schemas import Command, ControlCommand, Heartbeat, Message, Severity, Status, now_ns
from common.systemd import notify, supervisor, watchdog_interval_s

log = logging.getLogger(__name__)

# A critical task that has not shown progress for this long is hung: the watchdog stops pinging.
TASK_STALL_S = 10.0
# The release a process runs: this variable (make run exports the checkout's commit), else the file that
# deploy/autoupdate/build-release.sh writes into the release dir, beside the venv the process runs from.
RELEASE_VAR = "SCALPER_RELEASE"
RELEASE_FILE = "RELEASE"
RELEASE_MAX_CHARS = 64

ControlHook = Callable[[ControlCommand], Awaitable[None]]
TaskFn = Callable[[Progress], Awaitable[None]]


class Runtime:
    """What a service's modules get from the runner: settings, bus, health, safe mode, hooks."""

    def __init__(self, *, service: str, settings: config.Settings, bus: Bus, version: str, release: str = "",
                 stop: asyncio.Event | None = None) -> None:
        self.service = service
        self.settings = settings
        self.bus = bus
        self.version = version
        self.release = release  # the release commit, "" when unknown
        self.pid = os.getpid()
        self.start_ts_ns = now_ns()
        self.boot_id = uuid.uuid4().hex  # this process's instance in its heartbeats
        self.health = HealthState()
        self.safe_mode = False
        self.consumer_name = f"{service}@{socket.gethostname()}"
        self.consumers: list[Consumer] = []
        self.tasks: list[tuple[TaskFn, Progress, bool, bool]] = []
        self.stopping = asyncio.Event()  # set on SIGTERM; graceful tasks finish when they see it
        self.stop = stop or asyncio.Event()  # what SIGTERM sets: setting it stops the service gracefully
        self.supervisor = supervisor()
        self.progress: list[Progress] = []
        self._control_hooks: list[ControlHook] = []
        self._reload_hooks: list[Callable[[config.Settings], Awaitable[None]]] = []
        self._shutdown_hooks: list[Callable[[], Awaitable[None]]] = []

    def consume(self, stream: str, handler: Handler, *, types: tuple[type[Message], ...] | None = None,
                group: str | None = None, start_id: str = "$", batch: int = c.CONSUMER_BATCH,
                progress: Progress | None = None, prepare: Prepare | None = None,
                flush: Flush | None = None) -> Consumer:
        """Register a consumer group reader; it is a critical task for the watchdog.

        `progress`: its progress, when the handler's owner must beat it too (while it waits on purpose);
        `prepare`, `flush`: see Consumer."""
        progress = progress or Progress(f"consume:{stream}")
        consumer = Consumer(self.bus, stream=stream, group=group or self.service, name=self.consumer_name,
                            handler=handler, types=types, start_id=start_id, batch=batch,
                            on_progress=progress.beat, prepare=prepare, flush=flush)
        self.consumers.append(consumer)
        self.progress.append(progress)
        return consumer

    def task(self, name: str, fn: TaskFn, *, critical: bool = True, graceful: bool = False,
             watched: bool = True) -> Progress:
        """Register a long-running task. A critical one that ends stops the service (exit 1, so its
        supervisor starts it again) and, when `watched`, must call progress.beat() as it works.

        `watched=False`: a critical task that bounds its own silence (a WebSocket client reconnects a
        stream that sends nothing) and may wait longer than TASK_STALL_S on purpose (a reconnect backoff).
        At stop a plain task is cancelled; a graceful one is given SHUTDOWN_GRACE_S to return
        after `stopping` is set (to finish in-flight work).
        """
        progress = Progress(name)
        self.tasks.append((fn, progress, critical, graceful))
        if critical and watched:
            self.progress.append(progress)
        return progress

    def on_control(self, hook: ControlHook) -> None:
        self._control_hooks.append(hook)

    def on_reload(self, hook: Callable[[config.Settings], Awaitable[None]]) -> None:
        self._reload_hooks.append(hook)

    def on_shutdown(self, hook: Callable[[], Awaitable[None]]) -> None:
        self._shutdown_hooks.append(hook)

    def stalled(self) -> list[str]:
        return [p.name for p in self.progress if p.age() > TASK_STALL_S]

    def consumer_error(self) -> str:
        return next((cons.last_error for cons in reversed(self.consumers) if cons.last_error), "")

    def heartbeat(self, lag: dict[str, int]) -> Heartbeat:
        """What the service says about itself now; RED while a critical task is stalled."""
        status, reason = self.health.status, self.health.reason
        stalled = self.stalled()
        if stalled:
            status, reason = Status.RED, f"stalled: {', '.join(stalled)}"
        return Heartbeat(
            service=self.service, cluster=self.settings.service_cluster_id, pid=self.pid,
            start_ts_ns=self.start_ts_ns, ts_ns=now_ns(), version=self.version, release=self.release,
            status=status, reason=reason,
            safe_mode=self.safe_mode, consumer_lag=lag, details=self.health.details, supervisor=self.supervisor,
            last_error=self.health.last_error or self.consumer_error(), boot_id=self.boot_id,
            process=own_usage(),
        )

    async def handle_control(self, cmd: ControlCommand) -> None:
        if cmd.target not in ("*", self.service):
            return
        log.info("control", extra={"ctx": {"command": cmd.command.value, "by": cmd.issued_by,
                                           "command_id": cmd.command_id}})
        if cmd.command in (Command.SAFE_MODE_ON, Command.SAFE_MODE_OFF):
            self.safe_mode = cmd.command is Command.SAFE_MODE_ON
            metrics.SAFE_MODE.set(int(self.safe_mode))
        elif cmd.command is Command.RELOAD_CONFIG:
            await self.reload()
        elif cmd.command is Command.RESTART and cmd.target == self.service:
            self._restart(cmd)
        for hook in self._control_hooks:
            await hook(cmd)

    def _restart(self, cmd: ControlCommand) -> None:
        """Stop as SIGTERM does (in-flight work finished, exit 0); the supervisor starts us again."""
        ctx = {"by": cmd.issued_by, "supervisor": self.supervisor}
        if not self.supervisor:
            log.error("restart_refused: no supervisor would start this service again", extra={"ctx": ctx})
            return
        log.warning("restart_requested", extra={"ctx": ctx})
        self.stop.set()

    async def reload(self) -> None:
        notify("RELOADING=1", "STATUS=reloading config")
        try:
            settings = config.load(file_wins=True, service=self.service)
        except config.ConfigError as e:
            log.error("reload_rejected", extra={"ctx": {"error": str(e)}})
            await self.bus.alert(key=c.config_alert_key(self.service), severity=Severity.WARN,
                                 title=f"{self.service}: config reload rejected", detail=str(e))
        else:
            self.settings = settings
            logs.set_level(settings.log_level.value)
            for hook in self._reload_hooks:
                await hook(settings)
            log.info("config_reloaded")
        notify("READY=1", "STATUS=running")


def service_version(dist: str) -> str:
    try:
        return dist_version(dist)
    except PackageNotFoundError:
        return "0.0.0"


def release_commit() -> str:
    """The commit this process runs, so the operator sees which release each service is on after a
    deploy: SCALPER_RELEASE, else RELEASE in the release dir (RELEASES/<commit>/RELEASE beside
    RELEASES/<commit>/venv, symlinks resolved); "" when neither says (a plain venv)."""
    text = os.environ.get(RELEASE_VAR, "")
    if not text.strip():
        try:
            text = (Path(sys.prefix).resolve().parent / RELEASE_FILE).read_text()
        except OSError:
            return ""
    return text.strip()[:RELEASE_MAX_CHARS]


def run_service(service: str, setup: Callable[[Runtime], Awaitable[None]], *, dist: str) -> None:
    """The console-script entry point of a service; exits with the service's exit code."""
    settings = config.load_or_exit(service=service)
    logs.configure(service, settings.log_level.value)
    raise SystemExit(uvloop.run(_main(service, settings, setup, service_version(dist), release_commit())))


async def _main(service: str, settings: config.Settings, setup, version: str, release: str) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    port = metrics.serve(host=settings.metrics_host, port=settings.metrics_port(service),
                         service=service, version=version)
    log.info("starting", extra={"ctx": {"version": version, "release": release, "pid": os.getpid(),
                                        "metrics_port": port, "mode": settings.execution_mode.value}})
    bus = Bus(settings.redis_url.get_secret_value(), service=service, maxlen=settings.stream_maxlen)

    def report(status: str) -> None:
        log.warning("redis_unreachable", extra={"ctx": {"status": status}})
        # Still starting, and alive: ask systemd for more start time instead of being killed.
        notify(f"STATUS={status}", "EXTEND_TIMEOUT_USEC=15000000", "WATCHDOG=1")

    notify("STATUS=connecting to Redis")
    if not await bus.wait_ready(report, stop):
        await bus.close()
        return 0

    rt = Runtime(service=service, settings=settings, bus=bus, version=version, release=release, stop=stop)
    try:
        rt.safe_mode = await bus.redis.get(c.SAFE_MODE_KEY) == b"1"
        metrics.SAFE_MODE.set(int(rt.safe_mode))
        rt.consume(c.SYS_CONTROL, rt.handle_control, types=(ControlCommand,))
        await setup(rt)
    except REDIS_DOWN as e:  # Redis went away during start: exit and let the supervisor retry
        log.error("start_failed", extra={"ctx": {"error": str(e)}})
        await bus.close()
        return 1
    rt.health.details["gc_frozen"] = str(freeze_startup_heap())
    return await _serve(rt)


def freeze_startup_heap() -> int:
    """What start built (modules, settings, clients) lives as long as the process: moved out of the
    collector's sight, so a full collection scans what the service makes while it runs instead of the
    whole heap: 22-45 ms a full collection over the heap of a service's imports alone (about 60k
    objects, 96k for the dashboard), 40-80 ms measured in the running services, each a pause on the
    path of whatever tick or order is in flight; frozen, under 6 ms. Returns the objects frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


async def _serve(rt: Runtime) -> int:
    stop = rt.stop
    hb_progress = Progress("heartbeat")
    rt.progress.append(hb_progress)
    consumer_tasks = [asyncio.create_task(cons.run(), name=f"consume:{cons.stream}") for cons in rt.consumers]
    critical = list(consumer_tasks)
    graceful = list(consumer_tasks)
    others = []
    for fn, progress, is_critical, is_graceful in rt.tasks:
        t = asyncio.create_task(fn(progress), name=progress.name)
        (critical if is_critical else others).append(t)
        if is_graceful:
            graceful.append(t)
    heartbeats = publish_heartbeats(hb_progress, bus=rt.bus, consumers=rt.consumers, build=rt.heartbeat)
    critical.append(asyncio.create_task(heartbeats, name="heartbeat"))
    watchdog = asyncio.create_task(_watchdog(rt), name="watchdog")
    others.append(watchdog)

    notify("READY=1", "STATUS=running")
    log.info("ready", extra={"ctx": {"consumers": [cons.stream for cons in rt.consumers]}})

    stop_wait = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stop_wait, *critical], return_when=asyncio.FIRST_COMPLETED)
    code = 0
    if not stop.is_set():
        dead = next(t for t in done if t is not stop_wait)
        err = dead.exception() if not dead.cancelled() else None
        log.error("critical_task_ended", extra={"ctx": {"task": dead.get_name(), "error": repr(err)}},
                  exc_info=err)
        code = 1
    notify("STOPPING=1", "STATUS=stopping")
    watchdog.cancel()  # systemd stops watching at STOPPING=1; stopped consumers would only log as hung
    log.info("stopping", extra={"ctx": {"exit_code": code}})

    rt.stopping.set()
    for cons in rt.consumers:
        cons.stop()
    await asyncio.wait(graceful, timeout=c.SHUTDOWN_GRACE_S)
    await _cancel([*critical, *others, stop_wait], timeout=c.SHUTDOWN_GRACE_S)
    for hook in rt._shutdown_hooks:
        try:
            await asyncio.wait_for(hook(), c.SHUTDOWN_GRACE_S)
        except Exception:
            log.exception("shutdown_hook_failed")
    await rt.bus.close()
    log.info("stopped", extra={"ctx": {"exit_code": code}})
    return code


async def _cancel(tasks: list[asyncio.Task], *, timeout: float) -> None:
    """Cancel tasks and wait at most `timeout` s for them to end, cancelling again while waiting.

    One cancel is not enough on Python 3.11: asyncio.wait_for (inside redis-py) swallows a cancel that
    races with the completion of the awaited command (bpo-42130), and the task then runs on.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    pending = {t for t in tasks if not t.done()}
    while pending and loop.time() < deadline:
        for t in pending:
            t.cancel()
        _, pending = await asyncio.wait(pending, timeout=min(0.5, deadline - loop.time()))
    if pending:
        log.error("tasks_would_not_stop", extra={"ctx": {"tasks": sorted(t.get_name() for t in pending)}})
    for t in tasks:
        if t.done() and not t.cancelled():
            t.exception()  # retrieved: the runner already logged what ended a critical task


async def _watchdog(rt: Runtime) -> None:
    """Ping systemd's watchdog only while every critical task shows recent progress."""
    interval = watchdog_interval_s()
    if interval is None:
        return
    while True:
        await asyncio.sleep(interval)
        stalled = rt.stalled()
        if stalled:
            log.error("watchdog_withheld", extra={"ctx": {"stalled": stalled}})
        else:
            notify("WATCHDOG=1")
