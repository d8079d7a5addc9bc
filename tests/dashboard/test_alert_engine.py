"""dashboard.alert_engine: the alert engine against a local fake Telegram: dedup, log, retries, outages,
rate limit."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from common.config import Settings
from common.health import Progress
from common.schemas import Alert, Severity, now_ns
from dashboard.alert_engine import AlertEngine
from dashboard.telegram import Telegram

from tests.dashboard.faketelegram import FakeTelegram
from tests.support import free_port, wait_until_async

pytestmark = pytest.mark.service
TOKEN = "999:SECRETalerttoken"


def _alert(key: str, severity: Severity = Severity.CRIT, title: str = "something broke") -> Alert:
    return Alert(key=key, severity=severity, source="test", title=title, detail="details", ts_ns=now_ns())


def _states(engine: AlertEngine) -> list[str]:
    """Each alert's Telegram delivery, oldest first."""
    return [r["telegram"] for r in sorted(engine.listing(), key=lambda r: r["id"])]


@pytest.fixture
async def engine_for(tmp_path):
    made = []

    async def make(url: str, **settings) -> AlertEngine:
        s = Settings(_env_file=None, data_dir=tmp_path, **settings)
        engine = AlertEngine(s, Telegram(base_url=url, token=TOKEN, chat_id="7"))
        made.append((engine, asyncio.create_task(engine.run(Progress("telegram")))))
        return engine

    yield make
    for engine, task in made:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await engine.telegram.close()


async def test_duplicates_fold_every_alert_is_logged_and_crit_is_sent_once(engine_for, tmp_path):
    fake = FakeTelegram().start()
    try:
        engine = await engine_for(fake.url)
        for _ in range(3):
            await engine.on_alert(_alert("down:market"))
        await engine.on_alert(_alert("restart:market", Severity.WARN))
        # the engine marks it sent once Telegram's answer is back, a moment after the fake recorded it
        await wait_until_async(lambda: _states(engine) == ["sent", ""],
                               timeout=20, what="one Telegram message, delivered")
        [crit, warn] = sorted(engine.listing(), key=lambda r: r["id"])
        assert crit["repeats"] == 2 and crit["telegram"] == "sent" and warn["telegram"] == ""
        assert fake.messages[0]["chat_id"] == "7" and fake.messages[0]["token"] == TOKEN
        assert "something broke" in fake.messages[0]["text"]
        lines = [json.loads(x) for x in (tmp_path / "alert_log.jsonl").read_text().splitlines()]
        assert [x["duplicate"] for x in lines if "key" in x] == [False, True, True, False]
        assert [x for x in lines if "key" not in x] == [{"telegram_sent": crit["id"]}]
        assert engine.unacked() == 2
        engine.acknowledge(crit["id"], user="boss")
        assert engine.unacked() == 1 and engine.listing(unacked_only=True)[0]["key"] == "restart:market"
    finally:
        fake.stop()


async def test_warn_goes_to_telegram_when_configured(engine_for):
    fake = FakeTelegram().start()
    try:
        engine = await engine_for(fake.url, telegram_send_warn=True)
        await engine.on_alert(_alert("restart:worker", Severity.WARN))
        await engine.on_alert(_alert("info", Severity.INFO))
        await wait_until_async(lambda: len(fake.messages) == 1, timeout=20, what="the WARN sent")
        await asyncio.sleep(0.3)  # the sender's next passes: the INFO alert is never sent
        assert len(fake.messages) == 1
    finally:
        fake.stop()


async def test_failures_are_retried_and_visible(engine_for):
    fake = FakeTelegram().start()
    fake.fail_next = 3
    try:
        engine = await engine_for(fake.url)
        await engine.on_alert(_alert("down:execution"))
        await wait_until_async(lambda: engine.listing()[0]["telegram"] == "retrying",
                               timeout=20, what="a visible retry")
        assert engine.listing()[0]["last_error"] == "HTTP 502"
        await wait_until_async(lambda: _states(engine) == ["sent"],
                               timeout=20, what="the message after three 502s")
        rec = engine.listing()[0]
        assert rec["telegram"] == "sent" and rec["attempts"] == 4 and fake.refused == 3
    finally:
        fake.stop()


async def test_an_outage_never_blocks_the_engine(engine_for):
    fake = FakeTelegram(port=free_port())  # not started: connection refused
    engine = await engine_for(fake.url)
    started = time.monotonic()
    for i in range(200):
        await engine.on_alert(_alert(f"k{i}"))
    assert time.monotonic() - started < 5.0  # handling never waits on Telegram (a generous bound)
    assert len(engine.listing()) == 200
    await wait_until_async(lambda: engine.listing()[-1]["attempts"] >= 2,
                           timeout=20, what="retries while Telegram is down")
    assert all(r["telegram"] in ("pending", "retrying") for r in engine.listing())
    assert engine.listing()[-1]["last_error"] == "ConnectError"
    fake.start()  # Telegram is back: everything queued goes out, oldest first
    try:
        await wait_until_async(lambda: len(fake.messages) == 20,
                               timeout=30, what="the first minute's 20 messages")
        assert [t.split("key ")[1].rstrip(")") for t in fake.texts()] == [f"k{i}" for i in range(20)]
        assert TOKEN not in json.dumps(engine.listing())
    finally:
        fake.stop()


async def test_rate_limit_holds_the_rest_as_pending(engine_for):
    fake = FakeTelegram().start()
    try:
        engine = await engine_for(fake.url, alert_rate_per_min=2)
        for i in range(3):
            await engine.on_alert(_alert(f"r{i}"))
        await wait_until_async(lambda: _states(engine)[:2] == ["sent", "sent"],
                               timeout=20, what="two messages")
        await asyncio.sleep(0.5)  # the sender keeps running: the third waits for the next minute's quota
        assert len(fake.messages) == 2
        assert [r["telegram"] for r in sorted(engine.listing(), key=lambda r: r["id"])] == [
            "sent",
            "sent",
            "pending",
        ]
    finally:
        fake.stop()


async def test_a_restarted_engine_shows_the_history_and_its_acknowledgements(engine_for):
    fake = FakeTelegram().start()
    try:
        first = await engine_for(fake.url)
        await first.on_alert(_alert("a"))
        await first.on_alert(_alert("a"))
        await first.on_alert(_alert("b", Severity.WARN))
        first.acknowledge(1, user="boss")
        second = await engine_for(fake.url)  # same DATA_DIR, as after a dashboard restart
        second.load_history()
        rows = {r["key"]: r for r in second.listing()}
        assert rows["a"]["acked_by"] == "boss" and rows["a"]["repeats"] == 1 and rows["b"]["acked_by"] == ""
        assert second.unacked() == 1
        await second.on_alert(_alert("c"))
        assert max(r["id"] for r in second.listing()) == 3
    finally:
        fake.stop()


async def test_what_a_stopped_engine_had_not_delivered_is_sent_after_the_restart(engine_for):
    fake = FakeTelegram(port=free_port())  # down while the first run gets its alerts
    first = await engine_for(fake.url)
    fake.start()
    try:
        await first.on_alert(_alert("delivered"))
        await wait_until_async(lambda: _states(first) == ["sent"],
                               timeout=20, what="the first alert delivered")
        fake.fail_next = 1000  # then Telegram fails everything
        await first.on_alert(_alert("stuck"))
        await wait_until_async(lambda: first.listing()[0]["telegram"] == "retrying",
                               timeout=20, what="the second alert retrying")
        await first.telegram.close()  # the first run is gone: it can deliver nothing more
        fake.fail_next = 0
        second = await engine_for(fake.url)  # same DATA_DIR, as after a dashboard restart
        second.load_history()
        await wait_until_async(lambda: _states(second) == ["sent", "sent"],
                               timeout=20, what="the undelivered alert sent by the new run")
        assert "key stuck" in fake.texts()[1] and sum("key delivered" in t for t in fake.texts()) == 1
        assert {r["key"]: r["telegram"] for r in second.listing()} == {"stuck": "sent", "delivered": "sent"}
    finally:
        fake.stop()


async def test_a_full_outbox_drops_its_oldest_and_says_so(engine_for, caplog):
    from dashboard.alert_engine import KEPT

    engine = await engine_for(FakeTelegram(port=free_port()).url)  # Telegram never answers
    for i in range(KEPT + 1):
        await engine.on_alert(_alert(f"o{i}"))
    assert len(engine._outbox) == KEPT and engine._outbox[0].key == "o1"
    assert [r.ctx for r in caplog.records if r.msg == "telegram_outbox_full"] == [{"dropped": 1}]
