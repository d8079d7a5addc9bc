"""dashboard.routes.positions: positions and open orders formatted for people, each record one click away;
manual orders from the positions page (POST /api/orders). An admin's order
reaches the simulator with its TP and SL through execution, as `scalperctl order`'s does; bad input,
viewers and a missing CSRF token are refused, audited, and send nothing; both build the same intent
(common.manual_order)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import msgspec
import pytest
import redis
from common.bybit.enums import OrderStatus, OrderType, Side
from common.bybit.schemas.order import Order
from common.bybit.schemas.position import Position
from common.schemas import OrderIntent, decode

from common import constants as c
from tests.dashboard.conftest import ADMIN, VIEWER, Dashboard
from tests.dashboard.routes.exchange import on_exchange, trading_admin
from tests.support import VENV_BIN, wait_until

pytestmark = pytest.mark.platform


def _manual_intents(redis_url: str) -> list[OrderIntent]:
    r = redis.Redis.from_url(redis_url)
    try:
        msgs = [decode(f[c.PAYLOAD_FIELD]) for _, f in r.xrange(c.EXEC_INTENTS)]
    finally:
        r.close()
    return [m for m in msgs if isinstance(m, OrderIntent) and m.source == "manual"]


def _audit(data_dir: str) -> list[dict]:
    lines = (Path(data_dir) / "audit.jsonl").read_text().splitlines()
    return [a for a in map(json.loads, lines) if a["action"] in ("manual order", "POST /api/orders")]


def _exchange_open_order(env: dict[str, str], link: str):
    """The order as the simulator itself reports it to any Bybit client (/v5/order/realtime)."""
    return on_exchange(env, lambda rest: rest.open_orders(order_link_id=link))


def test_an_admin_order_reaches_the_simulator_with_tp_and_sl(cluster):
    d, admin = trading_admin(cluster)
    btc = wait_until(lambda: admin.get("/api/market").json()["symbols"].get("BTCUSDT", {}).get("last_price"),
                     timeout=30, interval=0.5, what="a BTCUSDT price from the market service")
    p = float(btc)
    limit, tp, sl = f"{p * 0.9:.1f}", f"{p * 1.1:.1f}", f"{p * 0.8:.1f}"  # rests: far below the market

    order = {"side": "buy", "symbol": "btcusdt", "qty": "0.01", "limit": limit, "tp": tp, "sl": sl}
    r = admin.post("/api/orders", headers={"X-CSRF-Token": d.csrf(admin)}, data=order)
    assert r.status_code == 200, r.text
    link = r.json()["orderLinkId"]
    assert link.startswith("m-")

    shown = wait_until(lambda: admin.get("/api/positions").json()["orders"].get(link), timeout=30,
                       interval=0.5, what="the manual order in execution's open orders")
    assert (shown["symbol"], shown["side"], shown["orderType"]) == ("BTCUSDT", Side.BUY, OrderType.LIMIT)
    assert float(shown["takeProfit"]) == float(tp) and float(shown["stopLoss"]) == float(sl)
    [order] = _exchange_open_order(cluster.env, link)
    assert (order.orderStatus, float(order.qty), float(order.price)) == (OrderStatus.NEW, 0.01, float(limit))
    assert (float(order.takeProfit), float(order.stopLoss)) == (float(tp), float(sl))
    [intent] = [i for i in _manual_intents(cluster.env["REDIS_URL"]) if i.intent_id == link]
    assert intent.source == "manual" and intent.reference_price == limit
    [entry] = _audit(cluster.env["DATA_DIR"])
    assert (entry["user"], entry["outcome"]) == (ADMIN, "ok") and link in entry["detail"]


def test_bad_orders_viewers_and_a_missing_csrf_token_are_refused_and_send_nothing(dashboard, redis_url):
    r = redis.Redis.from_url(redis_url)
    r.sadd(c.MARKET_SYMBOLS_KEY, "BTCUSDT", "ETHUSDT")  # the market service's universe
    r.close()
    admin = dashboard.session()
    good = {"side": "buy", "symbol": "BTCUSDT", "qty": "0.01", "tp": "70000", "sl": "50000"}
    csrf = {"X-CSRF-Token": dashboard.csrf(admin)}

    def refused(change: dict, status: int = 400) -> str:
        resp = admin.post("/api/orders", headers=csrf, data={k: v for k, v in (good | change).items() if v})
        assert resp.status_code == status, (change, resp.status_code, resp.text)
        return json.dumps(resp.json()["detail"])

    assert "qty: '-1' is not a positive number" in refused({"qty": "-1"})
    assert "qty: 'lots' is not a positive number" in refused({"qty": "lots"})
    assert "side: 'hold' is not buy or sell" in refused({"side": "hold"})
    assert "limit: 'ninety' is not a positive number" in refused({"limit": "ninety"})
    assert "sl: '0' is not a positive number" in refused({"sl": "0"})
    assert "symbol: DOGEUSDT is not traded here (BTCUSDT, ETHUSDT)" in refused({"symbol": "dogeusdt"})
    assert "qty" in refused({"qty": ""}, status=422)  # missing

    viewer = dashboard.viewer()
    resp = viewer.post("/api/orders", headers={"X-CSRF-Token": dashboard.csrf(viewer)}, data=good)
    assert resp.status_code == 403 and resp.json()["detail"] == "viewers cannot act"
    assert admin.post("/api/orders", data=good).status_code == 403
    assert admin.post("/api/orders", headers={"X-CSRF-Token": "wrong"}, data=good).status_code == 403

    assert _manual_intents(redis_url) == []
    audit = _audit(dashboard.env["DATA_DIR"])
    assert [a["outcome"] for a in audit] == ["refused"] * 9
    assert "qty: '-1' is not a positive number" in audit[0]["detail"]
    assert [a["user"] for a in audit[-3:]] == [VIEWER, ADMIN, ADMIN]


def _scalperctl_order(d: Dashboard, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(VENV_BIN / "scalperctl"), "order", *args], env=d.env, capture_output=True,
                          text=True, timeout=60, check=False)


def test_the_dashboard_and_scalperctl_send_the_same_intent(dashboard, redis_url):
    r = redis.Redis.from_url(redis_url)
    r.sadd(c.MARKET_SYMBOLS_KEY, "BTCUSDT", "ETHUSDT")
    r.close()
    admin = dashboard.session()
    form = {"side": "sell", "symbol": "ethusdt", "qty": "0.5", "limit": "4000", "tp": "3500", "sl": "4200"}
    web = admin.post("/api/orders", headers={"X-CSRF-Token": dashboard.csrf(admin)}, data=form)
    assert web.status_code == 200, web.text
    cli = _scalperctl_order(dashboard, "sell", "ethusdt", "0.5", "--limit", "4000", "--tp", "3500",
                            "--sl", "4200")
    assert cli.returncode == 0, cli.stderr
    web, ctl = _manual_intents(redis_url)
    assert json.loads(cli.stdout)["orderLinkId"] == ctl.intent_id and ctl.intent_id != web.intent_id
    assert web.created_ts_ns <= ctl.created_ts_ns
    same = {"intent_id": "", "created_ts_ns": 0}
    assert msgspec.structs.replace(web, **same) == msgspec.structs.replace(ctl, **same)
    refused = _scalperctl_order(dashboard, "buy", "dogeusdt", "1")
    assert refused.returncode == 2 and "symbol: DOGEUSDT is not traded here" in refused.stderr
    refused = _scalperctl_order(dashboard, "buy", "btcusdt", "0")
    assert refused.returncode == 2 and "qty: '0' is not a positive number" in refused.stderr
    assert len(_manual_intents(redis_url)) == 2


ORDER = {"orderId": "o-1", "orderLinkId": "m-abc", "symbol": "ETHUSDT", "side": Side.SELL,
         "orderType": OrderType.LIMIT, "price": "4000.50", "qty": "0.50", "orderStatus": OrderStatus.NEW,
         "timeInForce": "GTC",
         "takeProfit": "3500.00", "stopLoss": "4200.25", "createdTime": "1764979200999", "cumExecQty": "0.00"}
POSITION = {"symbol": "BTCUSDT", "side": Side.SELL, "size": "0.020", "avgPrice": "60000.0",
            "positionValue": "1200", "leverage": "3", "markPrice": "60300.0",
            "unrealisedPnl": "-6.00000000001", "cumRealisedPnl": "0",
            "takeProfit": "57000.0", "stopLoss": "61500.0", "updatedTime": "1764979200123"}


def test_positions_and_orders_read_as_numbers_for_people_with_the_record_one_click_away(dashboard, redis_url):
    r = redis.Redis.from_url(redis_url)
    try:
        # as execution writes them: Bybit's Structs, JSON-encoded
        r.hset(c.EXEC_POSITIONS_KEY, "BTCUSDT", msgspec.json.encode(Position(**POSITION)))
        r.hset(c.EXEC_ORDERS_KEY, "m-abc", msgspec.json.encode(Order(**ORDER)))
    finally:
        r.close()
    admin = dashboard.session()
    view = admin.get("/api/positions/view").json()
    [p], [o] = view["positions"], view["orders"]
    # a short 0.5 % under water: TP 5.47 % below the mark, SL 1.99 % above it
    assert {k: p["display"][k] for k in ("entry_price", "mark_price", "unrealised_pnl", "tp_distance",
                                         "sl_distance", "leverage")} == {
        "entry_price": "60000.0", "mark_price": "60300.0", "unrealised_pnl": "-6.00", "tp_distance": "5.47 %",
        "sl_distance": "1.99 %", "leverage": "3x"}
    assert (o["key"], o["display"]["price"], o["display"]["qty"], o["display"]["created"]) == (
        "m-abc", "4000.50", "0.50", "2025-12-06 00:00:00")
    assert o["raw"].items() >= ORDER.items() and p["raw"].items() >= POSITION.items()
    page = admin.get("/positions").text
    assert page.count("<th>symbol</th>") == 2  # the symbol once per table, not twice
    assert 'class="num upnl neg">-6.00<' in page and "<small>(1.99 %)</small>" in page
    assert '<time datetime="2025-12-06T00:00:00Z" title="2025-12-06 00:00:00 UTC">' in page
    assert page.count("<summary>JSON</summary>") == 2 and "1764979200999" not in page.split("<details>")[0]
    assert admin.get("/api/positions").json()["orders"]["m-abc"]["price"] == "4000.50"  # the raw API stays
