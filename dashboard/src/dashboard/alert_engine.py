"""The alert engine: sys.alerts in; deduplicated, logged, sent to Telegram, shown in the alert center.

Every alert is appended to DATA_DIR/alert_log.jsonl (rotated). An alert whose key was seen within
ALERT_DEDUP_S is folded into the first one (its repeat count grows) and not sent again. CRIT (and WARN
when TELEGRAM_SEND_WARN) go to Telegram from a separate task, at most ALERT_RATE_PER_MIN a minute,
retried with capped backoff: a Telegram outage delays messages, never the engine. Each delivery is
logged too, so a restarted dashboard sends again what the previous run had not delivered.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import time
from dataclasses import asdict
from pathlib import Path

from common.config import Settings
from common.health import Progress
from common.schemas import Alert, Severity
from redis.backoff import EqualJitterBackoff

from dashboard.records import AlertRecord
from dashboard.rotating_jsonl import rotating_jsonl
from dashboard.telegram import Telegram, TelegramError

log = logging.getLogger(__name__)
ALERT_LOG_FILE = "alert_log.jsonl"
KEPT = 1000  # alerts the center holds in memory (the jsonl file keeps all)
RETRY_BASE_S = 0.5
RETRY_CAP_S = 10.0
IDLE_WAIT_S = 1.0  # the sender wakes at least this often, to prove progress


class AlertEngine:
    """Takes alerts off sys.alerts, folds duplicates, keeps the center and feeds Telegram's outbox."""

    def __init__(self, settings: Settings, telegram: Telegram, *, clock=time.monotonic) -> None:
        self.dedup_s = settings.alert_dedup_s
        self.rate_per_min = settings.alert_rate_per_min
        self.send_warn = settings.telegram_send_warn
        self.telegram = telegram
        self.clock = clock
        self.records: collections.OrderedDict[int, AlertRecord] = collections.OrderedDict()
        self._by_key: dict[str, tuple[float, AlertRecord]] = {}
        self._next_id = 1
        self._outbox: collections.deque[AlertRecord] = collections.deque(maxlen=KEPT)
        self._wake = asyncio.Event()
        self._sent_at: collections.deque[float] = collections.deque()
        self.changed = asyncio.Condition()  # notified on every new alert, for live pages
        self.path = Path(settings.data_dir) / ALERT_LOG_FILE
        self._log = rotating_jsonl(self.path)
        self._backoff = EqualJitterBackoff(cap=RETRY_CAP_S, base=RETRY_BASE_S)

    def _wants_telegram(self, severity: str) -> bool:
        """CRIT always, WARN when TELEGRAM_SEND_WARN."""
        return severity == Severity.CRIT or (self.send_warn and severity == Severity.WARN)

    async def on_alert(self, alert: Alert) -> None:
        """Bus handler: never waits on Telegram."""
        now = self.clock()
        seen = self._by_key.get(alert.key)
        duplicate = seen is not None and now - seen[0] < self.dedup_s
        if duplicate:
            rec = seen[1]
            rec.repeats += 1
            rec.last_ts_ns = alert.ts_ns
        else:
            rec = AlertRecord(
                id=self._next_id,
                key=alert.key,
                severity=alert.severity.value,
                source=alert.source,
                title=alert.title,
                detail=alert.detail,
                ts_ns=alert.ts_ns,
                last_ts_ns=alert.ts_ns,
            )
            self._next_id += 1
            self._by_key[alert.key] = (now, rec)
            self.records[rec.id] = rec
            while len(self.records) > KEPT:
                old = self.records.popitem(last=False)[1]
                if self._by_key.get(old.key, (0, None))[1] is old:
                    del self._by_key[old.key]
            self._queue(rec)
        self._log.info(
            json.dumps(
                {
                    "id": rec.id,
                    "duplicate": duplicate,
                    "key": alert.key,
                    "severity": alert.severity.value,
                    "source": alert.source,
                    "title": alert.title,
                    "detail": alert.detail,
                    "ts_ns": alert.ts_ns,
                }
            )
        )
        async with self.changed:
            self.changed.notify_all()

    def _queue(self, rec: AlertRecord) -> None:
        """Into the Telegram outbox if it is for Telegram; a full outbox drops its oldest, with an error
        in the log (the alert center lets the same oldest alert go at the same count)."""
        if not self._wants_telegram(rec.severity):
            return
        rec.telegram = "pending" if self.telegram.configured else "off"
        if not self.telegram.configured:
            return
        if len(self._outbox) >= KEPT:
            log.error("telegram_outbox_full", extra={"ctx": {"dropped": self._outbox.popleft().id}})
        self._outbox.append(rec)
        self._wake.set()

    def acknowledge(self, alert_id: int, *, user: str) -> AlertRecord | None:
        """Mark alert `alert_id` acknowledged by `user` (logged); None when there is no such alert."""
        rec = self.records.get(alert_id)
        if rec is not None and not rec.acked_by:
            rec.acked_by = user
            self._log.info(json.dumps({"ack": alert_id, "by": user}))
        return rec

    def load_history(self) -> None:
        """After a restart: the alert center, its acknowledgements and its Telegram deliveries from the
        current alert_log.jsonl; what the previous run had not delivered goes to the outbox again."""
        if not self.path.exists():
            return
        delivered: set[int] = set()
        with self.path.open(encoding="utf-8") as f:
            for line in f:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if "telegram_sent" in entry:
                    delivered.add(entry["telegram_sent"])
                elif "ack" in entry:
                    rec = self.records.get(entry["ack"])
                    if rec is not None:
                        rec.acked_by = entry.get("by", "")
                elif entry.get("duplicate"):
                    rec = self.records.get(entry.get("id"))
                    if rec is not None:
                        rec.repeats += 1
                elif "id" in entry:
                    fields = ("key", "severity", "source", "title", "detail", "ts_ns")
                    rec = AlertRecord(
                        id=entry["id"], last_ts_ns=entry["ts_ns"], **{k: entry[k] for k in fields}
                    )
                    self.records[rec.id] = rec
                    while len(self.records) > KEPT:
                        self.records.popitem(last=False)
        self._next_id = max(self.records, default=0) + 1
        for rec in self.records.values():
            if rec.id in delivered:
                rec.telegram = "sent"
            else:
                self._queue(rec)

    def unacked(self) -> int:
        """The badge: WARN and CRIT alerts nobody acknowledged."""
        return sum(1 for r in self.records.values() if not r.acked_by and r.severity != Severity.INFO)

    def listing(self, *, severity: str | None = None, unacked_only: bool = False) -> list[dict]:
        """The alert center's rows, newest first, filtered by severity and acknowledgement."""
        rows = [
            asdict(r)
            for r in reversed(self.records.values())
            if (severity is None or r.severity == severity) and not (unacked_only and r.acked_by)
        ]
        return rows

    async def run(self, progress: Progress) -> None:
        """The Telegram sender: oldest first, retried with backoff, rate-limited."""
        failures = 0
        while True:
            progress.beat()
            if not self._outbox:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), IDLE_WAIT_S)
                except TimeoutError:
                    pass
                continue
            wait = self._rate_wait()
            if wait > 0:
                await asyncio.sleep(min(wait, IDLE_WAIT_S))
                continue
            rec = self._outbox[0]
            rec.attempts += 1
            try:
                await self.telegram.send(_text(rec))
            except Exception as e:  # noqa: BLE001 - whatever Telegram does, the engine carries on
                failures += 1
                rec.telegram, rec.last_error = (
                    "retrying",
                    str(e) if isinstance(e, TelegramError) else type(e).__name__,
                )
                log.warning(
                    "telegram_failed",
                    extra={"ctx": {"alert": rec.id, "attempts": rec.attempts, "error": str(e)}},
                )
                await asyncio.sleep(self._backoff.compute(failures))
                continue
            failures = 0
            self._sent_at.append(self.clock())
            rec.telegram, rec.last_error = "sent", ""
            self._outbox.popleft()
            self._log.info(json.dumps({"telegram_sent": rec.id}))

    def _rate_wait(self) -> float:
        """Seconds to wait before the next message may go (ALERT_RATE_PER_MIN per minute)."""
        now = self.clock()
        while self._sent_at and now - self._sent_at[0] >= 60.0:
            self._sent_at.popleft()
        return 60.0 - (now - self._sent_at[0]) if len(self._sent_at) >= self.rate_per_min else 0.0


def _text(rec: AlertRecord) -> str:
    """The Telegram message of an alert."""
    return f"[{rec.severity}] {rec.title}\n{rec.detail}\n({rec.source}, key {rec.key})".strip()
