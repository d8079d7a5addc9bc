"""The health monitor: heartbeats in, GREEN / YELLOW / RED per service out.

It detects SERVICE_DOWN (heartbeats stopped) and restarts (a new instance: its boot id, or pid and
start time), raises an alert on each, and keeps restart counts in Redis so a restarted dashboard still
knows them. A restart is judged against each service's newest instance seen, kept in Redis too (not
against the heartbeat key, which expires and which a new instance overwrites): so a service restarted
while the dashboard was down, and the dashboard's own restart, count however long they took and in
whatever order the restarted dashboard reads the key and the stream's backlog.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import msgspec
from common.bus import REDIS_DOWN
from common.health import Progress, classify
from common.lifecycle import Runtime
from common.schemas import Heartbeat, Severity, Status, decode, now_ns

from common import constants as c

log = logging.getLogger(__name__)

EVALUATE_EVERY_S = 0.25
# A restarted service stays RED this long after its new instance's first heartbeat (not after the
# dashboard read it: a restart read from the backlog, during the dashboard's own outage, is long over).
RESTART_HOLD_S = 5.0
# A service RED ever since the dashboard started (never seen at all, or RED in its first heartbeat) is
# alerted after this long: within it a boot's services come up in any order and a restarted dashboard
# reads old beats from the backlog; past it, a service that never came up (a refused config) needs the
# operator. A change to RED is alerted at once.
BOOT_GRACE_S = 120.0
# A service YELLOW this long (stale books, execution SAFE on a fault, a kill switch) is alerted once: it
# says why itself, but a degraded service left so long needs the operator, who may be asleep.
DEGRADED_ALERT_AFTER_S = 600.0


class Instance(msgspec.Struct, kw_only=True):
    """A service's newest process seen: its Heartbeat.instance(), first heartbeat's ts and pid."""

    instance: str
    ts_ns: int
    pid: int


_instance = msgspec.json.Decoder(Instance)


@dataclass
class ServiceView:
    """One service as the operator sees it."""

    name: str
    status: Status = Status.RED
    reason: str = "no heartbeat yet"
    heartbeat: Heartbeat | None = None
    restarts: int = 0
    status_since_ns: int = field(default_factory=now_ns)
    restarted_ns: int = 0  # when a new instance beat first (as far as we saw: a backlog holds old beats)
    restart_reason: str = ""
    alerted: bool = False  # the CRIT alert of this spell of its status (RED, or YELLOW too long) raised

    def classify(self, now: int, *, watched_since_ns: int) -> tuple[Status, str]:
        """Heartbeat status, except that a service which just restarted shows RED for a while:
        a crash followed by a quick restart is still an outage the operator must see."""
        if self.restarted_ns and (now - self.restarted_ns) / 1e9 < RESTART_HOLD_S:
            return Status.RED, self.restart_reason
        if self.heartbeat is None:
            watched_s = (now - watched_since_ns) / 1e9
            return Status.RED, f"no heartbeat since the dashboard started {watched_s:.0f} s ago"
        return classify(self.heartbeat, now_ns=now)

    def as_dict(self, now: int) -> dict:
        """The row /api/health shows; null facts before the first heartbeat."""
        hb = self.heartbeat
        return {
            "name": self.name,
            "status": self.status.value,
            "reason": self.reason,
            "restarts": self.restarts,
            "status_since_ns": self.status_since_ns,
            "pid": hb.pid if hb else None,
            "version": hb.version if hb else None,
            "release": hb.release if hb else None,
            "uptime_s": round((now - hb.start_ts_ns) / 1e9, 1) if hb else None,
            "last_heartbeat_age_s": round((now - hb.ts_ns) / 1e9, 2) if hb else None,
            "safe_mode": hb.safe_mode if hb else None,
            "consumer_lag": hb.consumer_lag if hb else {},
            "last_error": hb.last_error if hb else "",
            "details": hb.details if hb else {},
            "supervisor": hb.supervisor if hb else "",
        }


class HealthMonitor:
    """Heartbeats in, one ServiceView per service out; notifies `changed` on every status change."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.services = {name: ServiceView(name) for name in c.SERVICES}
        self.instances: dict[str, Instance] = {}  # service -> its newest instance seen (HEALTH_INSTANCES_KEY)
        self._noting = asyncio.Lock()
        self.changed = asyncio.Condition()  # notified on every status change, for live pages
        # a monitor just started has /healthz's grace to hear its first beat, not a 503 from its first request
        self.last_heartbeat_ns = now_ns()
        self.started_ns = now_ns()

    async def load(self) -> None:
        """Seed from the heartbeat TTL keys and stored restart counts (a restarted dashboard)."""
        async with self._noting:  # not over a count the consumer has just made
            restarts = await self.rt.bus.redis.hgetall(c.HEALTH_RESTARTS_KEY)
            for name, n in restarts.items():
                self._view(name.decode()).restarts = int(n)
        for name in c.SERVICES:
            raw = await self.rt.bus.redis.get(c.heartbeat_key(name))
            if raw:
                try:
                    hb = decode(raw)
                except msgspec.DecodeError:
                    continue
                if isinstance(hb, Heartbeat):
                    await self._seen(hb)  # its process too: the stream may never show it (our group is newer)
        await self.evaluate()

    def _view(self, name: str) -> ServiceView:
        """The service's view, made on its first heartbeat when it is not one of c.SERVICES."""
        if name not in self.services:
            self.services[name] = ServiceView(name)
        return self.services[name]

    async def on_heartbeat(self, hb: Heartbeat) -> None:
        """Bus handler: a new instance (Heartbeat.instance()) counts a restart (and alerts); then re-evaluate."""
        if await self._seen(hb):
            self.last_heartbeat_ns = now_ns()
            await self.evaluate()

    async def _seen(self, hb: Heartbeat) -> bool:
        """Note `hb`'s process (a restart when it is newer than the newest seen) and keep `hb` as its
        service's latest; False when `hb` is older than the one kept (an old heartbeat redelivered after a
        crash of ours, or the backlog behind the key)."""
        view = self._view(hb.service)
        await self._note_instance(view, hb)
        prev = view.heartbeat
        if prev is not None and hb.ts_ns < prev.ts_ns:
            return False
        view.heartbeat = hb
        return True

    async def _kept_instance(self, service: str) -> Instance | None:
        """The service's newest process seen: in memory, or read from Redis on its first heartbeat in this
        dashboard's life (whenever that comes: before or after load())."""
        known = self.instances.get(service)
        if known is None:
            raw = await self.rt.bus.redis.hget(c.HEALTH_INSTANCES_KEY, service)
            try:
                known = None if raw is None else _instance.decode(raw)
            except msgspec.DecodeError:
                known = None  # unreadable: as if never seen (the next process starts the record again)
            if known is not None:
                self.instances[service] = known
        return known

    async def _note_instance(self, view: ServiceView, hb: Heartbeat) -> None:
        """Count a restart when `hb` is from a process newer than the newest one seen of its service.
        One at a time: load() and the consumer may bring the new process's beats at once."""
        async with self._noting:
            await self._note_newer_instance(view, hb)

    async def _note_newer_instance(self, view: ServiceView, hb: Heartbeat) -> None:
        known = await self._kept_instance(hb.service)
        if known is not None and (known.instance == hb.instance() or hb.ts_ns < known.ts_ns):
            return  # the same process, or one before the newest seen
        new = Instance(instance=hb.instance(), ts_ns=hb.ts_ns, pid=hb.pid)
        # The newest process and the count together, or neither: a write lost half way would leave the
        # redelivered beat looking like the same process, its restart never counted.
        try:
            async with self.rt.bus.redis.pipeline(transaction=True) as tx:
                tx.hset(c.HEALTH_INSTANCES_KEY, hb.service, msgspec.json.encode(new))
                if known is not None:
                    tx.hincrby(c.HEALTH_RESTARTS_KEY, hb.service, 1)
                written = await tx.execute()
        except BaseException:
            self.instances.pop(hb.service, None)  # it may have been written: read it again next time
            raise
        self.instances[hb.service] = new
        if known is None:
            return  # the first process of this service ever seen
        view.restarts = written[1]
        view.restarted_ns = min(hb.ts_ns, now_ns())  # its first beat seen: long past when read from a backlog
        view.restart_reason = f"RESTARTED: pid {known.pid} -> {hb.pid}"
        log.warning("service_restarted", extra={"ctx": {"service": hb.service, "old_pid": known.pid,
                                                        "new_pid": hb.pid, "restarts": view.restarts}})
        await self.rt.bus.alert(
            key=c.restart_alert_key(hb.service),
            severity=Severity.WARN,
            title=f"{hb.service} restarted",
            detail=f"pid {known.pid} -> {hb.pid}; restarts seen: {view.restarts}",
        )

    async def evaluate(self) -> None:
        """Re-classify every service; log and wake the live pages on a change; alert each spell of RED once
        (at the change to RED, or past BOOT_GRACE_S for a service RED since our start) and each spell of
        YELLOW that lasts DEGRADED_ALERT_AFTER_S."""
        now = now_ns()
        changed, to_alert = [], []
        grace_over = (now - self.started_ns) / 1e9 > BOOT_GRACE_S
        for view in self.services.values():
            status, reason = view.classify(now, watched_since_ns=self.started_ns)
            turned = status != view.status
            if (status, reason) != (view.status, view.reason):
                if turned:
                    view.status_since_ns, view.alerted = now, False
                    changed.append((view, status))
                view.status, view.reason = status, reason
            due = (status is Status.RED and (turned or grace_over)
                   or status is Status.YELLOW and (now - view.status_since_ns) / 1e9 > DEGRADED_ALERT_AFTER_S)
            if due and not view.alerted:
                view.alerted = True
                to_alert.append(view)
        for view, status in changed:
            log.info(
                "service_status",
                extra={"ctx": {"service": view.name, "status": status.value, "reason": view.reason}},
            )
        for view in to_alert:
            await self._alert(view)
        if changed:
            async with self.changed:
                self.changed.notify_all()

    async def _alert(self, view: ServiceView) -> None:
        """The CRIT alert of a service gone RED, or YELLOW too long; Redis being down only costs the alert."""
        if view.status is Status.RED:
            key, title = c.down_alert_key(view.name), f"{view.name} is RED"
        else:
            key = c.degraded_alert_key(view.name)
            title = f"{view.name} YELLOW for {DEGRADED_ALERT_AFTER_S / 60:.0f} min"
        try:
            await self.rt.bus.alert(key=key, severity=Severity.CRIT, title=title, detail=view.reason)
        except REDIS_DOWN as e:
            log.warning("alert_failed", extra={"ctx": {"error": str(e)}})

    async def run(self, progress: Progress) -> None:
        """The monitor's task: seed from Redis, then evaluate every EVALUATE_EVERY_S."""
        await self.load()
        while True:
            await self.evaluate()
            progress.beat()
            await asyncio.sleep(EVALUATE_EVERY_S)

    def snapshot(self) -> dict:
        """Every service's row, the worst status of them, the cluster and the mode."""
        now = now_ns()
        services = [v.as_dict(now) for v in self.services.values()]
        overall = min((s["status"] for s in services), key=_SEVERITY_ORDER.index, default="RED")
        return {
            "cluster": self.rt.settings.service_cluster_id,
            "mode": self.rt.settings.execution_mode.value,
            "overall": overall,
            "services": services,
            "ts_ns": now,
        }


_SEVERITY_ORDER = ["RED", "YELLOW", "GREEN"]
