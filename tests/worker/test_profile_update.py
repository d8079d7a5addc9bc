"""The profile update against a real Redis: figures from recorded fills, a bounded proposal stored as a
new version (never overwriting one), applied only when configured, as a file the strategy accepts."""

from __future__ import annotations

import json
import time

import pytest

from common import constants as c
from common.bybit.enums import OrderStatus, OrderType, Side
from common.schemas import Command, ControlCommand, FillEvent, OrderEvent, OrderIntent, decode, encode
from strategy_service.profile import parse
from tests.worker.harness import job_context
from worker.profile_figures import collect
from worker.profile_update import BOUNDS, MAX_STEP, ProfileJob, packaged_dir

pytestmark = pytest.mark.service


def publish(client, stream, msg):
    client.xadd(stream, {c.PAYLOAD_FIELD: encode(msg)})


def seed_trading(client, *, trips: int = 12, losing: bool = True):
    """Round trips on BTCUSDT paying 10 bps of slippage each way, mostly losing, with a 6 bps spread."""
    now = time.time_ns()
    for i in range(trips):
        for leg, side in ((0, Side.BUY), (1, Side.SELL)):
            link = f"s-{i}-{leg}"
            ref = 100.0
            price = ref * (1.001 if side is Side.BUY else 0.999)
            publish(client, c.EXEC_INTENTS, OrderIntent(intent_id=link, symbol="BTCUSDT", side=side.value, qty="1",
                                                        reference_price=str(ref), created_ts_ns=now))
            publish(client, c.EXEC_EVENTS, OrderEvent(order_link_id=link, order_id=link, symbol="BTCUSDT",
                                                      side=side.value, status=OrderStatus.FILLED.value,
                                                      order_type=OrderType.MARKET.value, qty="1", ts_ns=now))
            publish(client, c.EXEC_EVENTS, FillEvent(exec_id=link, order_link_id=link, order_id=link,
                                                     symbol="BTCUSDT", side=side.value, price=str(price), qty="1",
                                                     fee="0", is_maker=False, exchange_ts_ns=now, ts_ns=now))
    client.hset(c.MARKET_SUMMARY_KEY, "BTCUSDT", json.dumps({"spread_bps": 6.0}))


def test_figures_come_from_the_recorded_fills(redis_server, redis_url):
    client = redis_server.client()
    seed_trading(client)
    figs = collect(client, days=1)["BTCUSDT"]
    assert figs.fills == 24 and figs.fill_ratio == 1.0 and figs.round_trips == 12 and figs.win_rate == 0.0
    assert figs.slippage_bps == pytest.approx(10.0) and figs.spread_bps == 6.0


def test_a_proposal_is_a_new_pending_version_within_bounds(redis_server, redis_url, tmp_path):
    client = redis_server.client()
    seed_trading(client)
    ctx = job_context(redis_url, tmp_path)
    result = ProfileJob().run(ctx)
    assert result.detail == {"profile": "balanced", "version": "3", "status": "pending"}
    record = json.loads(client.hget(c.profile_versions_key("balanced"), "3"))
    # sl_min_bps wants 3 spreads + slippage = 28 bps, but moves at most MAX_STEP from 15.
    assert record["diff"]["orders.sl_min_bps"] == [15.0, 15.0 * (1 + MAX_STEP)]
    assert record["diff"]["orders.sl_min_bps"][1] <= BOUNDS["orders", "sl_min_bps"][1]
    assert record["figures"]["BTCUSDT"]["fills"] == 24 and record["base_version"] == 2
    assert not (tmp_path / "profiles").exists()  # pending: nothing in force
    assert client.xlen(c.SYS_CONTROL) == 0

    ProfileJob().run(ctx)  # the next day's proposal is the next version; version 3 stays as it was
    assert sorted(client.hkeys(c.profile_versions_key("balanced"))) == [b"3", b"4"]
    assert json.loads(client.hget(c.profile_versions_key("balanced"), "3")) == record


def test_auto_apply_writes_a_profile_the_strategy_accepts_and_switches_to_it(redis_server, redis_url, tmp_path):
    client = redis_server.client()
    seed_trading(client, trips=25)
    ctx = job_context(redis_url, tmp_path, profile_auto_apply=True)
    assert ProfileJob().run(ctx).detail["status"] == "applied"
    applied = parse((tmp_path / "profiles" / "balanced.toml").read_text(), source="test")
    packaged = parse((packaged_dir() / "balanced.toml").read_text(), source="packaged")
    assert applied.version == 3 and applied.orders.sl_min_bps == 18.75
    assert applied.risk.risk_per_trade_pct == 0.4  # 25 round trips, none won: less risk per trade
    assert applied.features == packaged.features and applied.scoring == packaged.scoring
    cmd = decode(client.xrange(c.SYS_CONTROL)[-1][1][c.PAYLOAD_FIELD])
    assert isinstance(cmd, ControlCommand) and cmd.command is Command.SET_PROFILE
    assert cmd.target == c.STRATEGY and cmd.args == {"profile": "balanced"}
    assert json.loads(client.hget(c.profile_versions_key("balanced"), "3"))["status"] == "applied"


def test_no_data_no_new_version(redis_server, redis_url, tmp_path):
    result = ProfileJob().run(job_context(redis_url, tmp_path))
    assert result.counts == {"symbols": 0, "fills": 0, "changes": 0} and result.detail["proposal"] == "none"
    assert not redis_server.client().exists(c.profile_versions_key("balanced"))
