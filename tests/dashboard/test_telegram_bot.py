"""dashboard.telegram_bot: a real dashboard on a real Redis, long polling the fake Bot API over HTTP. Each
command answers the figures the dashboard's own API shows; /safe enters operator safe mode as the
dashboard's button does (leaving it is refused); another chat gets no answer and changes nothing; every
command is audited with the Telegram user as actor; offsets advance and a restarted dashboard goes on
from the kept one, handling no update twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
from common.bybit.enums import Side
from common.schemas import Alert, ControlCommand, PositionEvent, Severity, decode, encode, now_ns

from common import constants as c
from dashboard import daily_pnl
from tests.dashboard.conftest import admin_env, dashboard_up, start_dashboard, stop
from tests.dashboard.faketelegram import FakeTelegram
from tests.dashboard.routes.test_overview import LONG, _seed
from tests.support import wait_until

pytestmark = pytest.mark.service

ADMIN_CHAT, OTHER_CHAT = 42, 99  # admin_env's TELEGRAM_CHAT_ID, and a stranger's chat
ACTOR = "telegram:boss"  # FakeTelegram.say's default user, as the audit names them
SAFE_EXECUTION = {"state": "SAFE", "reason": "private stream silent", "ts_ns": 1,
                  "holds": {"ws": "private stream silent for 20 s"}}


def ask(telegram, text: str, *, chat_id: int = ADMIN_CHAT) -> str:
    """Write `text` in the admin chat and return the bot's answer (the next message it sends)."""
    sent = len(telegram.messages)
    telegram.say(text, chat_id=chat_id)
    wait_until(lambda: len(telegram.messages) > sent, timeout=20, interval=0.1, what=f"the answer to {text}")
    answer = telegram.messages[sent]
    assert answer["chat_id"] == str(ADMIN_CHAT) and answer["method"] == "sendMessage"
    return answer["text"]


def audit(dashboard) -> list[dict]:
    path = dashboard.env["DATA_DIR"] + "/audit.jsonl"
    with open(path) as f:
        return [json.loads(line) for line in f]


def telegram_trail(dashboard) -> list[tuple[str, str, str]]:
    """(actor, action, outcome) of every audited Telegram command, oldest first."""
    entries = audit(dashboard)
    return [(e["user"], e["action"], e["outcome"]) for e in entries if e["user"].startswith("telegram")]


def _publish_pnl(r: redis.Redis) -> None:
    """Cumulative realised P&L of one symbol: 100 before this week, 130 just before today when the week
    started earlier (else not at all), 150 now."""
    now = datetime.now(UTC)
    week_ms, day_ms = daily_pnl.week_start_ms(now), daily_pnl.day_start_ms(now)
    pos = dict(symbol="SOLUSDT", side=Side.NONE, size="0", ts_ns=0)
    r.xadd(c.EXEC_EVENTS, {c.PAYLOAD_FIELD: encode(PositionEvent(realised_pnl="100", **pos))},
           id=f"{week_ms - 3_600_000}-0")
    if day_ms > week_ms:
        r.xadd(c.EXEC_EVENTS, {c.PAYLOAD_FIELD: encode(PositionEvent(realised_pnl="130", **pos))},
               id=f"{day_ms - 1000}-0")
    r.xadd(c.EXEC_EVENTS, {c.PAYLOAD_FIELD: encode(PositionEvent(realised_pnl="150", **pos))})


def test_each_command_answers_what_the_dashboard_shows(dashboard, telegram, redis_url):
    r = redis.Redis.from_url(redis_url)
    try:
        _publish_pnl(r)
        _seed(redis_url)  # a protected long, the wallet, a closed round trip, a backup
        r.set(c.EXEC_STATE_KEY, json.dumps(SAFE_EXECUTION))
        alert = Alert(key="test:warn", severity=Severity.WARN, source="test", title="feed latency high",
                      detail="market.trades 1.5 s behind", ts_ns=now_ns())
        r.xadd(c.SYS_ALERTS, {c.PAYLOAD_FIELD: encode(alert)})
    finally:
        r.close()
    admin = dashboard.session()
    wait_until(lambda: admin.get("/api/alerts?unacked=true").json()["alerts"], timeout=15,
               what="the alert in the alert center")
    o = admin.get("/api/overview").json()

    status = ask(telegram, "/status")
    health = o["health"]
    assert status.startswith(f"Cluster {health['cluster']} · mode {health['mode']} · {health['overall']}")
    assert "Safe mode: off" in status
    assert "Execution: SAFE (private stream silent for 20 s)" in status
    assert f"Alerts unacknowledged: {health['alerts_unacked']}" in status

    pnl = ask(telegram, "/pnl")
    today, week = pnl.split("This week")
    p = o["pnl"]
    assert f"realised {p['realised']} USDT, fees {p['fees']}" in today
    assert f"unrealised {p['unrealised']} USDT" in today and f"total {p['total']} USDT" in today
    assert p["unrealised"] == "+6.00"  # the long's uPnL, on both
    # the week counts from the last value before Monday 00:00 UTC: 150 - 100, and the same open long
    assert "realised +50.00 USDT" in week and "unrealised +6.00 USDT" in week and "total +56.00 USDT" in week

    positions = ask(telegram, "/positions")
    [row] = o["positions"]
    d = row["display"]
    assert positions.startswith("Open positions: 1")
    assert f"BTCUSDT {LONG['side']} {d['size']} @ {d['entry_price']}" in positions
    assert f"mark {d['mark_price']} · uPnL {d['unrealised_pnl']} USDT" in positions
    assert (f"TP {d['take_profit']} ({d['tp_distance']}) · SL {d['stop_loss']} ({d['sl_distance']})"
            in positions)

    alerts = ask(telegram, "/alerts")
    unacked = admin.get("/api/alerts?unacked=true").json()["alerts"]
    assert alerts.startswith(f"Unacknowledged alerts: {len(unacked)}")
    assert "[WARN] feed latency high" in alerts and "market.trades 1.5 s behind" in alerts

    assert "/status" in ask(telegram, "hello")  # anything else: what the bot understands
    trail = telegram_trail(dashboard)
    assert trail == [(ACTOR, f"telegram {cmd}", outcome) for cmd, outcome in (
        ("/status", "ok"), ("/pnl", "ok"), ("/positions", "ok"), ("/alerts", "ok"), ("hello", "unknown"))]


def test_safe_enters_safe_mode_and_leaving_it_stays_a_dashboard_action(dashboard, telegram, redis_url):
    admin = dashboard.session()
    assert admin.get("/api/safe-mode").json()["operator_safe_mode"] is False

    refused = ask(telegram, "/safe off")
    assert refused.startswith("Refused: leaving safe mode is a dashboard action")
    assert admin.get("/api/safe-mode").json()["operator_safe_mode"] is False

    entered = ask(telegram, "/safe")
    assert entered.startswith("Safe mode ON for every service")
    assert admin.get("/api/safe-mode").json()["operator_safe_mode"] is True
    assert "Safe mode: ON (operator)" in ask(telegram, "/status")
    r = redis.Redis.from_url(redis_url)
    try:
        commands = [decode(f[c.PAYLOAD_FIELD]) for _, f in r.xrange(c.SYS_CONTROL)]
    finally:
        r.close()
    sent = [cmd for cmd in commands if isinstance(cmd, ControlCommand)]
    assert [(cmd.command, cmd.target, cmd.issued_by) for cmd in sent] == [("safe_mode_on", "*", ACTOR)]
    trail = telegram_trail(dashboard)
    assert trail[:2] == [(ACTOR, "safe_mode_off", "refused"), (ACTOR, "safe_mode_on", "ok")]

    # leaving it is the dashboard's: the admin's button works, and the bot says so
    left = admin.post("/api/safe-mode/off", headers={"X-CSRF-Token": dashboard.csrf(admin)})
    assert left.status_code == 200, left.text
    assert "Safe mode: off" in ask(telegram, "/status")


def test_a_stranger_chat_gets_no_answer_and_changes_nothing(dashboard, telegram, tmp_path):
    admin = dashboard.session()
    telegram.say("/safe", chat_id=OTHER_CHAT, username="mallory")
    telegram.say("/status", chat_id=OTHER_CHAT, username="mallory")
    # updates are handled in order: once the admin's command is answered, the stranger's were handled too
    assert ask(telegram, "/alerts").startswith("No unacknowledged alert")
    assert len(telegram.messages) == 1
    assert admin.get("/api/safe-mode").json()["operator_safe_mode"] is False
    ignored = [e for e in audit(dashboard) if e["user"] == "telegram:mallory"]
    assert [(e["action"], e["outcome"], e["client"]) for e in ignored] == [
        ("telegram /safe", "ignored", f"telegram chat {OTHER_CHAT}"),
        ("telegram /status", "ignored", f"telegram chat {OTHER_CHAT}")]
    logged = [json.loads(line) for line in (tmp_path / "dashboard.log").read_text().splitlines()
              if '"telegram_foreign_chat"' in line]
    assert [(e["chat"], e["user"], e["command"]) for e in logged] == [
        (str(OTHER_CHAT), "telegram:mallory", "/safe"), (str(OTHER_CHAT), "telegram:mallory", "/status")]


def _next_seven_in_tokyo(now: datetime) -> datetime:
    """The next 07:00 in Tokyo (no daylight saving time there) after `now`."""
    tokyo = now.astimezone(ZoneInfo("Asia/Tokyo"))
    seven = tokyo.replace(hour=7, minute=0, second=0, microsecond=0)
    return seven if seven > tokyo else seven + timedelta(days=1)


def test_offsets_advance_and_a_restart_goes_on_from_the_kept_one(redis_url, tmp_path, telegram):
    env = {**admin_env(telegram), "TELEGRAM_POLL_TIMEOUT_S": "1", "TELEGRAM_SUMMARY_TIME": "07:00",
           "TELEGRAM_TIMEZONE": "Asia/Tokyo"}
    due = _next_seven_in_tokyo(datetime.now(UTC))
    d = start_dashboard(redis_url, tmp_path, **env)
    try:
        # the daily summary is scheduled with the bot (test_daily_summary sends it with a clock that jumps)
        scheduled = f'"telegram_summary_next","at":"{due.isoformat()}"'
        wait_until(lambda: scheduled in (tmp_path / "dashboard.log").read_text(), timeout=20,
                   what="the summary scheduled for 07:00 JST")
        first = telegram.say("/alerts")
        second = telegram.say("/positions")
        wait_until(lambda: len(telegram.messages) == 2, timeout=20, what="two answers")
        # long polls with the configured wait, each offset the last update seen + 1; empty polls repeat it
        wait_until(lambda: [p.get("offset") for p in telegram.polls].count(second + 1) >= 2, timeout=20,
                   what="two polls past the second update (one of them empty after its 1 s wait)")
        assert all(p["timeout"] == 1 for p in telegram.polls)
        offsets = [p.get("offset") for p in telegram.polls]
        assert set(offsets) <= {None, first + 1, second + 1}
        assert offsets == sorted(offsets, key=lambda o: o or 0)
    finally:
        stop(d.proc)
    r = redis.Redis.from_url(redis_url)
    try:
        assert int(r.get(c.TELEGRAM_OFFSET_KEY)) == second + 1
    finally:
        r.close()

    telegram.polls.clear()
    third = telegram.say("/pnl")
    again = start_dashboard(redis_url, tmp_path, **env)
    # A dashboard back within the heartbeat TTL may also see its own restart and send "[CRIT] dashboard is
    # RED" (whether depends on which of its first Redis reads lands first): answers are counted apart.
    def answers() -> list[str]:
        return [t for t in telegram.texts() if not t.startswith("[CRIT] dashboard is RED\n")]
    try:
        wait_until(lambda: len(answers()) == 3, timeout=20, what="the answer to /pnl, restarted")
        assert telegram.polls[0]["offset"] == second + 1  # from the kept offset, not from scratch
        assert answers()[2].startswith("P&L")
        wait_until(lambda: any(p.get("offset") == third + 1 for p in telegram.polls), timeout=20,
                   what="a poll confirming the third update")
        assert len(answers()) == 3  # nothing answered twice
    finally:
        stop(again.proc)
    handled = [e["action"] for e in audit(d) if e["user"] == ACTOR]
    assert handled == ["telegram /alerts", "telegram /positions", "telegram /pnl"]


def test_a_telegram_outage_only_delays_answers(dashboard, telegram, tmp_path):
    assert ask(telegram, "/alerts").startswith("No unacknowledged alert")
    telegram.stop()  # the Bot API unreachable: polls fail, the bot backs off and polls again
    wait_until(lambda: '"telegram_poll_failed"' in (tmp_path / "dashboard.log").read_text(), timeout=20,
               what="a failed poll logged")
    back = FakeTelegram(port=telegram.port, first_update_id=telegram.next_update_id).start()
    try:
        assert dashboard_up(dashboard.base) and dashboard.proc.poll() is None
        assert ask(back, "/positions") == "No open position."
    finally:
        back.stop()
