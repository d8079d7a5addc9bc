"""dashboard.routes.overview: the overview in headless Chromium with five services, updated live over SSE,
and its P&L today following the execution events; P&L today on the page and the API; equity against the
daily-loss limit, the kill switch, positions with their TP/SL distances, the last trades and the last
backup, formatted for people on the page and raw beside it in /api/overview; the equity curve ending at
the simulator's wallet."""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import UTC, datetime

import httpx
import pytest
import redis

from common import constants as c
from common.bybit.enums import Side
from common.schemas import FillEvent, Heartbeat, PositionEvent, Status, encode
from tests.browser import ARTIFACTS, chromium, needs_chromium
from tests.dashboard.conftest import admin_env, live_page, logged_in_context, start_dashboard, stop, watched_page
from tests.dashboard.routes.exchange import on_exchange, trading_admin
from tests.support import SERVICES, wait_until

pytestmark = pytest.mark.platform


def _statuses(base: str) -> dict[str, str]:
    try:
        return {s["name"]: s["status"] for s in httpx.get(f"{base}/api/health", timeout=2).json()["services"]}
    except (httpx.HTTPError, ValueError):
        return {}


@needs_chromium
def test_overview_shows_five_green_and_turns_red_live(open_cluster, redis_server):
    from playwright.sync_api import expect

    procs, base = open_cluster.procs, open_cluster.base
    wait_until(lambda: set(_statuses(base).values()) == {"GREEN"} and len(_statuses(base)) == 5, timeout=60,
               interval=0.3, what="five GREEN on /api/health")
    with chromium() as browser:
        errors: list[str] = []
        page = watched_page(browser, errors)
        page.goto(base + "/")
        for name in SERVICES:
            expect(page.locator(f'tr[data-service="{name}"] td.status')).to_have_text("GREEN", timeout=15_000)
        expect(page.locator("#live")).to_have_text("live updates: on", timeout=15_000)
        page.screenshot(path=str(ARTIFACTS / "overview-green.png"))

        # P&L today follows the execution events without a reload (a symbol nobody else trades here)
        r = redis_server.client()
        event = PositionEvent(symbol="XRPUSDT", side=Side.NONE, size="0", realised_pnl="7.25", ts_ns=0)
        r.xadd(c.EXEC_EVENTS, {c.PAYLOAD_FIELD: encode(event)})
        r.close()
        expect(page.locator("#pnl-realised")).to_have_text("+7.25", timeout=20_000)

        os.kill(procs["worker"].pid, signal.SIGKILL)  # no reload: the page must learn it over SSE
        expect(page.locator('tr[data-service="worker"] td.status')).to_have_text("RED", timeout=10_000)
        expect(page.locator("#overall")).to_have_text("RED")
        page.screenshot(path=str(ARTIFACTS / "overview-worker-red.png"))
        assert errors == []


@needs_chromium
def test_the_headers_release_follows_a_deploy_on_open_pages(redis_url, redis_server, tmp_path, telegram):
    """A deploy rolls the services under a page left open: its header must not go on naming the old release,
    on a page whose feed carries the health snapshot (the overview) as on one whose feed does not (alerts)."""
    from playwright.sync_api import expect

    old, new = "a" * 40, "b" * 40
    dash = start_dashboard(redis_url, tmp_path, **admin_env(telegram), SCALPER_RELEASE=old)
    try:
        admin = dash.session()
        wait_until(lambda: any(s["name"] == "dashboard" and s["version"] for s in admin.get("/api/health").json()
                               ["services"]), timeout=20, what="the dashboard's own heartbeat")
        version = next(s["version"] for s in admin.get("/api/health").json()["services"] if s["name"] == "dashboard")
        problems: list[str] = []
        with chromium() as browser:
            context = logged_in_context(browser, dash.base, problems)
            pages = [live_page(context, dash.base + "/"), live_page(context, dash.base + "/alerts")]
            for page in pages:
                expect(page.locator("#release")).to_have_text(f"{version} @ {old[:12]}")
            r = redis_server.client()
            beat = Heartbeat(service=c.WORKER, cluster="scalper", pid=4242, start_ts_ns=time.time_ns(),
                             ts_ns=time.time_ns(), version=version, status=Status.GREEN, boot_id="rolled",
                             release=new)
            r.xadd(c.SYS_HEALTH, {c.PAYLOAD_FIELD: encode(beat)})
            r.close()
            for page in pages:  # no reload
                expect(page.locator("#release")).to_have_text(
                    f"mixed: {version} @ {old[:12]}, {version} @ {new[:12]}", timeout=15_000)
        assert problems == []
        assert admin.get("/api/health").json()["release"] == f"mixed: {version} @ {old[:12]}, {version} @ {new[:12]}"
    finally:
        stop(dash.proc)


def test_pnl_today_on_the_overview_and_the_api(dashboard, redis_url):
    admin = dashboard.session()
    assert "no fill or position event since 00:00 UTC" in admin.get("/api/pnl/today").json()["no_data"]
    assert 'id="pnl-note">no fill or position event since 00:00 UTC' in admin.get("/").text
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    r = redis.Redis.from_url(redis_url)
    try:
        pos = dict(symbol="ETHUSDT", side=Side.NONE, size="0", ts_ns=0)
        r.xadd(c.EXEC_EVENTS, {c.PAYLOAD_FIELD: encode(PositionEvent(realised_pnl="4", **pos))},
               id=f"{int(midnight.timestamp() * 1000) - 1}-0")
        r.xadd(c.EXEC_EVENTS, {c.PAYLOAD_FIELD: encode(PositionEvent(realised_pnl="7.25", **pos))})
    finally:
        r.close()
    got = admin.get("/api/pnl/today").json()
    assert got["realised_pnl"] == "3.25" and got["symbols"]["ETHUSDT"]["baseline"] == "before 00:00 UTC"
    assert admin.get("/api/overview").json()["pnl"]["realised"] == "+3.25"
    assert 'id="pnl-realised" class="pos">+3.25<' in admin.get("/").text


# A long as execution keeps it (Bybit's fields): the mark 1 % above the entry, TP 2 % and SL 1 % away.
LONG = {"symbol": "BTCUSDT", "side": Side.BUY, "size": "0.010", "avgPrice": "60000.00",
        "positionValue": "600", "leverage": "5", "markPrice": "60600.00", "unrealisedPnl": "6.0000001",
        "cumRealisedPnl": "-1",
        "takeProfit": "61812.00", "stopLoss": "59994.00", "updatedTime": "1764979200123", "liqPrice": ""}


def _seed(redis_url: str) -> None:
    """Execution's positions and daily-loss state, a round trip's fills, and the worker's last backup."""
    r = redis.Redis.from_url(redis_url)
    now_ms = int(time.time() * 1000)
    try:
        r.hset(c.EXEC_POSITIONS_KEY, "BTCUSDT", json.dumps(LONG))
        r.set(c.EXEC_DAILY_LOSS_KEY, json.dumps({"day": now_ms // 86_400_000, "day_start": 10_000.0,
                                                 "equity": 9_800.0, "ts_ms": now_ms, "killed": ""}))
        for i, (side, price, link) in enumerate([(Side.SELL, "2500.50", "s-ETHUSDT-e-1700000000000"),
                                                 (Side.BUY, "2490.25", "s-ETHUSDT-x-1700000060000")]):
            fill = FillEvent(exec_id=f"e{i}", order_link_id=link, order_id=f"o{i}", symbol="ETHUSDT",
                             side=side, price=price, qty="0.40", fee="0.55", is_maker=False,
                             exchange_ts_ns=(now_ms - 90_000 + i * 75_000) * 1_000_000, ts_ns=0)
            r.xadd(c.EXEC_EVENTS, {c.PAYLOAD_FIELD: encode(fill)})
        run = {"run_id": "r1", "job": c.JOB_BACKUP, "trigger": "schedule", "start_ts": now_ms / 1000 - 12,
               "end_ts": now_ms / 1000 - 2, "outcome": "ok", "counts": {}, "bytes": 1024, "error": ""}
        r.lpush(c.job_runs_key(c.JOB_BACKUP), json.dumps(run))
    finally:
        r.close()


def test_the_overview_answers_is_all_well_and_am_i_making_money(dashboard, redis_url):
    admin = dashboard.session()
    empty = admin.get("/api/overview").json()
    assert empty["equity"]["no_data"] == "execution has not read the wallet yet" and empty["positions"] == []
    assert empty["backup"]["no_data"] == "no worker has registered backups" and empty["trades"] == []
    _seed(redis_url)

    o = admin.get("/api/overview").json()
    e = o["equity"]
    assert (e["equity"], e["change"], e["drawdown_pct"], e["limit_pct"], e["limit_used_pct"]) == (
        "9800.0", "-200.0", 2.0, 5.0, 40.0)
    assert e["display"] == {"equity": "9,800.00 USDT", "day_start": "10,000.00 USDT", "change": "-200.00",
                            "drawdown": "2.00 %", "limit": "5.00 %", "limit_used": "40.00 %",
                            "read_at": e["display"]["read_at"]}
    [p] = o["positions"]
    distances = round(p["tp_distance_pct"], 6), round(p["sl_distance_pct"], 6)
    assert p["protected"] and distances == (2.0, 1.0)
    assert {k: p["display"][k] for k in ("size", "entry_price", "mark_price", "unrealised_pnl", "tp_distance",
                                         "sl_distance", "updated")} == {
        "size": "0.010", "entry_price": "60000.00", "mark_price": "60600.00", "unrealised_pnl": "+6.00",
        "tp_distance": "2.00 %", "sl_distance": "1.00 %", "updated": "2025-12-06 00:00:00"}
    assert p["raw"] == LONG
    [t] = o["trades"]  # a short: sold 2500.50, bought back 2490.25, 0.40 of it, 1.10 of fees
    assert (t["symbol"], t["side"], t["net_pnl"], t["outcome"], t["signal"]) == (
        "ETHUSDT", Side.SELL, "3", "win", "ETHUSDT-1700000000000")
    shown = t["display"]
    assert (shown["net_pnl"], shown["fees"], shown["holding"]) == ("+3.00", "-1.10", "1 min 15 s")
    # realised P&L comes from position events (none here), today's fees from the fills
    assert (o["pnl"]["unrealised"], o["pnl"]["realised"], o["pnl"]["fees"]) == ("+6.00", "0.00", "-1.10")
    assert (o["backup"]["outcome"], o["backup"]["display"]["took"]) == ("ok", "10 s")

    html = admin.get("/").text
    for shown in ('id="equity">9,800.00 USDT<', 'id="equity-change" class="neg">-200.00<', 'value="40.0"',
                  'id="kill-switch" class="pos">armed<', 'class="num upnl pos">+6.00<',
                  "<small>(2.00 %)</small>",
                  'class="num pnl pos">+3.00<', "1 min 15 s", "ETHUSDT-1700000000000",
                  '<span class="outcome-ok">ok</span>'):
        assert shown in html, shown
    # the raw record once, in the position's JSON view (one click away), never as the shown figure
    raw_view = html.split("<summary>JSON</summary><pre>")[1].split("</pre>")[0]
    assert html.count("6.0000001") == 1 and "6.0000001" in raw_view


def test_a_tripped_kill_switch_and_an_unprotected_position_stand_out(dashboard, redis_url):
    admin = dashboard.session()
    r = redis.Redis.from_url(redis_url)
    try:
        r.hset(c.EXEC_POSITIONS_KEY, "BTCUSDT", json.dumps(LONG | {"stopLoss": "0", "takeProfit": "0"}))
        r.set(c.EXEC_DAILY_LOSS_KEY, json.dumps({"day": 1, "day_start": 1000.0, "equity": 900.0,
                                                 "ts_ms": 86_400_001,
                                                 "killed": "daily loss 10.000 % of 1000.00 USDT >= 5"}))
    finally:
        r.close()
    o = admin.get("/api/overview").json()
    assert o["equity"]["limit_used_pct"] == 100.0 and o["equity"]["killed"].startswith("daily loss 10.000 %")
    [p] = o["positions"]
    assert (p["protected"], p["sl_distance_pct"], p["display"]["stop_loss"], p["display"]["take_profit"]) == (
        False, None, "NONE", "none")
    html = admin.get("/").text
    assert 'id="kill-switch" class="neg">TRIPPED: daily loss 10.000 %' in html
    assert 'class="num sl neg">NONE<' in html


def _exchange(env: dict[str, str]):
    """The simulator's wallet equity and open positions, as any Bybit client reads them over REST."""

    async def ask(rest):
        wallet, held = await rest.wallet(), await rest.positions()
        return float(wallet.list[0].totalEquity), {p.symbol: p for p in held if float(p.size or 0)}

    return on_exchange(env, ask)


def test_the_overview_figures_match_the_simulators_wallet_and_positions(cluster):
    d, admin = trading_admin(cluster)
    r = admin.post("/api/orders", headers={"X-CSRF-Token": d.csrf(admin)},
                   data={"side": "buy", "symbol": "BTCUSDT", "qty": "0.01"})
    assert r.status_code == 200, r.text

    def shown_like_the_exchange() -> bool:
        o = admin.get("/api/overview").json()
        equity, held = _exchange(cluster.env)
        mine = {p["symbol"]: p for p in o["positions"]}
        if set(mine) != set(held) or not held or o["equity"].get("equity") is None:
            return False
        # equity moves with the mark price between the two reads: within 0.5 USDT of the exchange's
        return abs(float(o["equity"]["equity"]) - equity) < 0.5 and all(
            (p["side"], p["size"], p["entry_price"]) == (held[s].side, held[s].size, held[s].avgPrice)
            for s, p in mine.items())

    wait_until(shown_like_the_exchange, timeout=60, interval=1,
               what="the overview's equity and positions as the simulator reports them")

    def curve_like_the_exchange() -> bool:  # execution samples every wallet reading into the equity curve
        samples = admin.get("/api/equity", params={"period": "day"}).json()["samples"]
        return bool(samples) and abs(samples[-1]["equity"] - _exchange(cluster.env)[0]) < 0.5

    wait_until(curve_like_the_exchange, timeout=60, interval=1, what="the equity curve ending at the wallet's")
    [btc] = admin.get("/api/overview").json()["positions"]
    assert (btc["side"], btc["protected"]) == (Side.BUY, True)  # execution set the default SL
    assert btc["sl_distance_pct"] > 0 and btc["tp_distance_pct"] > 0
    html = admin.get("/").text
    assert 'tr data-symbol="BTCUSDT"' in html and btc["display"]["entry_price"] in html
