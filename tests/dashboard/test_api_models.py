"""dashboard.api_models: schemathesis against the dashboard's OpenAPI schema, logged in as admin: no 5xx,
every status code and response body as documented; the schema carries a model for each JSON answer, not a
bare "object"."""

from __future__ import annotations

import subprocess

import pytest
import redis
from common.schemas import ControlCommand, decode

from common import constants as c
from tests.dashboard.conftest import Dashboard, dashboard_up
from tests.support import VENV_BIN, wait_until

pytestmark = pytest.mark.platform

# positive_data_acceptance: a manual order's side, symbol and qty are checked in common.manual_order (400,
# documented), not by the form schema. negative_data_rejection: a form's boolean may be "0" or "on", as
# HTML forms send it, which the check calls a wrong type. allow_header_conformance: a 405's Allow header
# lists the methods of the one route Starlette matched (GET /api/profile), not of every route on the path.
UNCHECKED = "positive_data_acceptance,negative_data_rejection,allow_header_conformance"


def _schemathesis(d: Dashboard, tmp_path, *args: str) -> subprocess.CompletedProcess:
    s = d.session()
    return subprocess.run(
        [
            str(VENV_BIN / "schemathesis"),
            "run",
            f"{d.base}/api/openapi.json",
            "-H",
            f"Cookie: scalper_session={s.cookies['scalper_session']}",
            "-H",
            f"X-CSRF-Token: {d.csrf(s)}",
            "--checks",
            "all",
            "--exclude-checks",
            UNCHECKED,
            "--max-examples",
            "15",
            "--seed",
            "1",
            "--exclude-path-regex",
            "/stream$",
            "--generation-database",
            "none",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
        check=False,
    )


def test_api_conforms_to_its_schema_with_a_session(dashboard, tmp_path, redis_url):
    r = _schemathesis(dashboard, tmp_path, "--phases", "examples,coverage,fuzzing")
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    # the session and CSRF token reached the actions too, not only the reads
    commands = [decode(f[c.PAYLOAD_FIELD]) for _, f in redis.Redis.from_url(redis_url).xrange(c.SYS_CONTROL)]
    assert commands and all(
        isinstance(m, ControlCommand) and m.issued_by == "dashboard:boss" for m in commands
    )


def test_reads_conform_with_the_platform_trading(cluster, tmp_path):
    """Every read, with what the other services really wrote: heartbeats, the market summary, execution's
    state, recovery plan, an open order, a position and quality sums (from orders sent from the dashboard)."""
    d = Dashboard(cluster.base, cluster.env, cluster.procs["dashboard"])
    wait_until(lambda: dashboard_up(d.base), timeout=30, interval=0.2, what="dashboard /healthz")
    admin = d.session()
    wait_until(lambda: (admin.get("/api/safe-mode").json()["execution"] or {}).get("state") == "NORMAL",
               timeout=60, interval=0.5, what="execution NORMAL after its boot recovery")
    price = float(wait_until(lambda: admin.get("/api/market").json()["symbols"].get("BTCUSDT", {}).get(
        "last_price"), timeout=30, interval=0.5, what="a BTCUSDT price"))
    csrf = {"X-CSRF-Token": d.csrf(admin)}
    for order in ({"side": "buy", "symbol": "BTCUSDT", "qty": "0.01"},
                  {"side": "buy", "symbol": "BTCUSDT", "qty": "0.01", "limit": f"{price * 0.9:.1f}"}):
        assert admin.post("/api/orders", headers=csrf, data=order).status_code == 200
    wait_until(lambda: all(admin.get(path).json()[key] for path, key in (
        ("/api/positions", "positions"), ("/api/positions", "orders"), ("/api/quality", "symbols"))),
        timeout=30, interval=0.5, what="a position, an open order and quality sums")

    r = _schemathesis(d, tmp_path, "--include-method", "GET", "--phases", "examples,fuzzing")
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]


def test_the_schema_documents_each_answer(dashboard):
    doc = dashboard.session().get("/api/openapi.json").json()
    models = doc["components"]["schemas"]
    assert {"name", "status", "pid", "details", "consumer_lag"} <= set(models["ServiceRow"]["required"])
    assert models["ServiceRow"]["properties"]["pid"]["anyOf"] == [{"type": "integer"}, {"type": "null"}]
    assert models["ServiceRow"]["properties"]["details"]["additionalProperties"] == {"type": "string"}
    assert models["Health"]["properties"]["services"]["items"] == {"$ref": "#/components/schemas/ServiceRow"}
    # an undefined ratio is null; a quantile may be Prometheus' "+Inf"
    assert {"type": "null"} in models["QualityBucket"]["properties"]["fill_ratio"]["anyOf"]
    assert {"const": "+Inf", "type": "string"} in models["Histogram"]["properties"]["p99"]["anyOf"]
    assert {"orderLinkId", "takeProfit", "stopLoss"} <= set(models["BybitOrder"]["required"])
    assert models["Signal"]["properties"]["components"]["additionalProperties"] == {"type": "number"}
    # every JSON route answers a model: none is left a bare "object"
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            content = op["responses"]["200"]["content"]
            if "application/json" in content:
                schema = content["application/json"]["schema"]
                assert "$ref" in schema or "anyOf" in schema, f"{method.upper()} {path}: {schema}"
