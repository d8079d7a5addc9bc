"""The profile update against a real Redis: figures from recorded fills, a bounded proposal stored as a
new version (never overwriting one), applied only when configured, as a file the strategy accepts."""

from __future__ import annotations

import json

import pytest

from common import constants as c
from common.schemas import Command, ControlCommand, decode
from strategy_service.profile import ProfileError, parse
from tests.worker.harness import job_context, seed_trading
from worker.profile_update import DEFAULT_BOUNDS, MAX_STEP, DecisionRefused, ProfileJob, decide, packaged_dir

pytestmark = pytest.mark.service


def test_a_proposal_is_a_new_pending_version_within_bounds(redis_server, redis_url, tmp_path):
    client = redis_server.client()
    seed_trading(client)
    ctx = job_context(redis_url, tmp_path)
    result = ProfileJob().run(ctx)
    assert result.detail == {"profile": "balanced", "version": "3", "status": "pending"}
    record = json.loads(client.hget(c.profile_versions_key("balanced"), "3"))
    # sl_min_bps wants 3 spreads + slippage = 28 bps, but moves at most MAX_STEP from 15.
    assert record["diff"]["orders.sl_min_bps"] == [15.0, 15.0 * (1 + MAX_STEP)]
    assert record["diff"]["orders.sl_min_bps"][1] <= DEFAULT_BOUNDS["orders.sl_min_bps"][1]
    assert record["figures"]["BTCUSDT"]["fills"] == 24 and record["base_version"] == 2
    assert not (tmp_path / "profiles").exists()  # pending: nothing in force
    assert client.xlen(c.SYS_CONTROL) == 0

    ProfileJob().run(ctx)  # the next day's proposal is the next version; version 3 stays as it was
    # 2, the version the proposals were made from, is kept too: an admin can roll back to it
    assert sorted(client.hkeys(c.profile_versions_key("balanced"))) == [b"2", b"3", b"4"]
    assert json.loads(client.hget(c.profile_versions_key("balanced"), "3")) == record
    base = json.loads(client.hget(c.profile_versions_key("balanced"), "2"))
    assert base["status"] == "applied" and base["params"]["version"] == 2 and base["diff"] == {}


def test_the_bounds_the_profile_declares_hold_and_what_it_leaves_out_is_not_tuned(
        redis_server, redis_url, tmp_path):
    client = redis_server.client()
    seed_trading(client, trips=25)  # would move sl_min_bps up (to 18.75) and risk_per_trade_pct down
    text = (packaged_dir() / "balanced.toml").read_text()
    text += '\n[tuning]\n"orders.sl_min_bps" = [5.0, 16.0]\n'  # only the stop may move, up to 16 bps
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "balanced.toml").write_text(text)
    ctx = job_context(redis_url, tmp_path, profile_auto_apply=True)
    ProfileJob().run(ctx)
    record = json.loads(client.hget(c.profile_versions_key("balanced"), "3"))
    assert record["diff"] == {"orders.sl_min_bps": [15.0, 16.0]}
    applied = parse((tmp_path / "profiles" / "balanced.toml").read_text(), source="test")
    assert applied.orders.sl_min_bps == 16.0 and applied.tuning == {"orders.sl_min_bps": (5.0, 16.0)}


def test_the_strategy_refuses_tuning_bounds_it_does_not_know():
    text = (packaged_dir() / "balanced.toml").read_text()
    with pytest.raises(ProfileError, match="tuning.orders.tp_rr: not a tunable parameter"):
        parse(text + '\n[tuning]\n"orders.tp_rr" = [1.0, 2.0]\n', source="test")
    with pytest.raises(ProfileError, match="low 3.0 above high 2.0"):
        parse(text + '\n[tuning]\n"orders.sl_min_bps" = [3.0, 2.0]\n', source="test")


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


def test_decisions_apply_reject_and_roll_back_as_the_status_allows(redis_server, redis_url, tmp_path):
    client = redis_server.client()
    seed_trading(client)
    ctx = job_context(redis_url, tmp_path)
    ProfileJob().run(ctx)
    ProfileJob().run(ctx)  # versions 3 and 4 pending, from 2

    def decided(version: str, decision: c.ProfileDecision) -> dict:
        return decide(client, settings=ctx.settings, name="balanced", version=version, decision=decision,
                      by="dashboard:boss")

    def in_force() -> int:
        return parse((tmp_path / "profiles" / "balanced.toml").read_text(), source="test").version

    assert decided("3", c.ProfileDecision.APPROVE)["status"] == "applied" and in_force() == 3
    assert decided("4", c.ProfileDecision.REJECT)["status"] == "rejected"
    assert decided("2", c.ProfileDecision.ROLLBACK)["decided_by"] == "dashboard:boss" and in_force() == 2
    for version, decision in (("4", c.ProfileDecision.APPROVE), ("3", c.ProfileDecision.REJECT),
                              ("4", c.ProfileDecision.ROLLBACK), ("9", c.ProfileDecision.APPROVE)):
        with pytest.raises(DecisionRefused):
            decided(version, decision)
    assert in_force() == 2
    switches = [decode(f[c.PAYLOAD_FIELD]) for _, f in client.xrange(c.SYS_CONTROL)]
    assert [(m.command, m.args) for m in switches] == [(Command.SET_PROFILE, {"profile": "balanced"})] * 2
    stored = client.hgetall(c.profile_versions_key("balanced"))
    assert {int(k): json.loads(v)["status"] for k, v in stored.items()} == {2: "applied", 3: "applied",
                                                                              4: "rejected"}


def test_no_data_no_new_version(redis_server, redis_url, tmp_path):
    result = ProfileJob().run(job_context(redis_url, tmp_path))
    assert result.counts == {"symbols": 0, "fills": 0, "changes": 0} and result.detail["proposal"] == "none"
    assert not redis_server.client().exists(c.profile_versions_key("balanced"))
