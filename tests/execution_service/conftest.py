"""The execution service as a real process against the simulator (real sockets) and a real Redis."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import redis
from common.bybit.signing import rest_signature
from common.schemas import OrderIntent, decode, encode, now_ns

from common import constants as c
from tests.support import service_env, start_service, start_sim, wait_until

ADMIN_TOKEN = "admintoken"


@pytest.fixture
def sim(tmp_path):
    s = start_sim("--admin-token", ADMIN_TOKEN, tmp_path=tmp_path)
    yield s
    s.stop()


class Exec:
    """One execution service under test, and what a test does with it (Redis, simulator, faults)."""

    def __init__(self, *, redis_url: str, sim, tmp_path, **extra: str) -> None:
        self.sim, self.tmp_path, self.starts = sim, tmp_path, 0
        self.env = service_env(redis_url, EXECUTION_MODE="SIM", BYBIT_REST_URL=sim.rest,
                               BYBIT_WS_PUBLIC_URL=sim.ws_public, BYBIT_WS_PRIVATE_URL=sim.ws_private,
                               BYBIT_API_KEY=sim.key, BYBIT_API_SECRET=sim.secret, EXEC_REQUIRED_MODULES="",
                               EXEC_WS_SILENT_S="3", EXEC_RECONCILE_INTERVAL_S="2", **extra)
        self.r = redis.Redis.from_url(redis_url)
        self.http = httpx.Client(base_url=sim.rest, timeout=10)
        self.proc: subprocess.Popen | None = None

    def start(self) -> Exec:
        self.starts += 1
        self.log = self.tmp_path / f"execution-{self.starts}.log"
        self.proc = start_service("execution", self.env, self.log)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=20)

    def heartbeat(self):
        raw = self.r.get(c.heartbeat_key(c.EXECUTION))
        hb = decode(raw) if raw else None
        return hb if hb is not None and hb.pid == self.proc.pid else None

    def state(self) -> dict:
        raw = self.r.get(c.EXEC_STATE_KEY)
        return json.loads(raw) if raw else {}

    def wait_state(self, state: str, timeout: float = 60) -> dict:
        def check():
            if self.proc.poll() is not None:
                raise AssertionError(f"execution exited: {self.log.read_text()[-3000:]}")
            hb = self.heartbeat()
            st = self.state()
            return st if hb is not None and st.get("state") == state else None
        return wait_until(check, timeout=timeout, interval=0.1, what=f"execution {state}")

    def intent(self, symbol: str = "BTCUSDT", side: str = "Buy", qty: str = "0.01", **kw) -> OrderIntent:
        i = OrderIntent(intent_id=kw.pop("intent_id", f"m-{time.time_ns()}"), symbol=symbol, side=side, qty=qty,
                        created_ts_ns=now_ns(), **kw)
        self.r.xadd(c.EXEC_INTENTS, {c.PAYLOAD_FIELD: encode(i)})
        return i

    def record(self, intent_id: str) -> dict | None:
        raw = self.r.hget(c.EXEC_INTENTS_KEY, intent_id)
        return json.loads(raw) if raw else None

    def view(self, key: str) -> dict:
        return {k.decode(): json.loads(v) for k, v in self.r.hgetall(key).items()}

    # --- the simulator's side ---
    def get(self, path: str, cursor: str = "", **params) -> dict:
        """A signed GET as any Bybit client makes it; a `cursor` goes back exactly as Bybit sent it."""
        q = urlencode(sorted({"category": "linear", **params}.items())) + (f"&cursor={cursor}" if cursor else "")
        ts = int(time.time() * 1000)
        sig = rest_signature(secret=self.sim.secret, timestamp=ts, api_key=self.sim.key, recv_window=5000,
                             params=q.encode())
        body = self.http.get(f"{path}?{q}", headers={"X-BAPI-API-KEY": self.sim.key, "X-BAPI-TIMESTAMP": str(ts),
                                                     "X-BAPI-RECV-WINDOW": "5000", "X-BAPI-SIGN": sig}).json()
        assert body["retCode"] == 0, body
        return body["result"]

    def post(self, path: str, body: dict) -> dict:
        """A signed POST straight to the simulator (an order placed behind the service's back)."""
        raw = json.dumps({"category": "linear", **body}).encode()
        ts = int(time.time() * 1000)
        sig = rest_signature(secret=self.sim.secret, timestamp=ts, api_key=self.sim.key, recv_window=5000,
                             params=raw)
        reply = self.http.post(path, content=raw, headers={
            "X-BAPI-API-KEY": self.sim.key, "X-BAPI-TIMESTAMP": str(ts), "X-BAPI-RECV-WINDOW": "5000",
            "X-BAPI-SIGN": sig, "Content-Type": "application/json"}).json()
        assert reply["retCode"] == 0, reply
        return reply["result"]

    def metrics(self) -> str:
        port = json.loads(next(line for line in self.log.read_text().splitlines() if '"starting"' in line))
        return httpx.get(f"http://127.0.0.1:{port['metrics_port']}/metrics", timeout=5).text

    def orders(self, **params) -> list[dict]:
        return self.get("/v5/order/realtime", settleCoin="USDT", **params)["list"]

    def history(self, link: str) -> list[dict]:
        """The order with this orderLinkId, open or closed ([] if none): the realtime query by orderLinkId
        finds a closed order at once, while Bybit's order history lags behind."""
        return self.get("/v5/order/realtime", orderLinkId=link)["list"]

    def all_history(self) -> list[dict]:
        """Every order the account ever had, following Bybit's cursor page by page."""
        orders, cursor = [], ""
        while True:
            page = self.get("/v5/order/history", limit=50, cursor=cursor)
            orders += page["list"]
            cursor = page.get("nextPageCursor", "")
            if not cursor:
                return orders

    def positions(self) -> list[dict]:
        return [p for p in self.get("/v5/position/list", settleCoin="USDT")["list"] if float(p["size"]) > 0]

    def price(self, symbol: str = "BTCUSDT") -> float:
        return float(self.get("/v5/market/tickers", symbol=symbol)["list"][0]["lastPrice"])

    def sim_status(self) -> dict:
        """The simulator's admin status (its faults, and the signed REST calls it served per path)."""
        body = self.http.get("/admin/status", headers={"X-Sim-Admin-Token": ADMIN_TOKEN}).json()
        assert body["retCode"] == 0, body
        return body["result"]

    def faults(self, **patch) -> dict:
        body = self.http.post("/admin/faults", json=patch, headers={"X-Sim-Admin-Token": ADMIN_TOKEN}).json()
        assert body["retCode"] == 0, body
        return body["result"]

    def close(self) -> None:
        self.stop()
        self.http.close()
        self.r.close()


def btc_max_mkt_listing(tmp_path) -> Path:
    """An --instruments file of the simulator's own listing with BTCUSDT's maxMktOrderQty at 0.004 (others
    100), so a market order of 0.01 must go out as 0.004 + 0.004 + 0.002."""
    listing = tmp_path / "instruments.json"
    probe = start_sim(tmp_path=tmp_path)
    try:
        reply = httpx.get(f"{probe.rest}/v5/market/instruments-info", params={"category": "linear"}).json()
    finally:
        probe.stop()
    for info in reply["result"]["list"]:
        info["lotSizeFilter"]["maxMktOrderQty"] = "0.004" if info["symbol"] == "BTCUSDT" else "100"
    listing.write_text(json.dumps(reply))
    return listing


@pytest.fixture
def execution(redis_url, sim, tmp_path):
    e = Exec(redis_url=redis_url, sim=sim, tmp_path=tmp_path)
    yield e
    e.close()
