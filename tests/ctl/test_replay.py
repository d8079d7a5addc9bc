"""`scalperctl replay` as the operator runs it: deterministic report data, a picture, a recorded
file giving the same result as the generated path it records, and isolation from the live platform."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import msgspec
import pytest

from common import constants as c
from common.bybit.enums import Side
from common.bybit.filters import to_step
from common.schemas import OrderEvent, Trade, encode
from exchange_sim.engine import BookUpdate, Exchange, MarketGenerator
from scalperctl.replay import STEP_MS, T0_MS, Backtest, generated
from strategy_service import profile as profiles
from tests.support import VENV_BIN

pytestmark = pytest.mark.service

SYMBOLS = ["BTCUSDT", "ETHUSDT"]
MINUTES = "3"


def replay(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(VENV_BIN / "scalperctl"), "replay", *args], capture_output=True, text=True,
                          timeout=240, env=env)


def digests(out: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir()) if p.suffix == ".json"}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("replay") / "a"
    done = replay("--seed", "11", "--symbols", ",".join(SYMBOLS), "--minutes", MINUTES, "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


def test_same_seed_gives_byte_identical_data_and_a_picture(seeded, tmp_path):
    again = replay("--seed", "11", "--symbols", ",".join(SYMBOLS), "--minutes", MINUTES, "--out", str(tmp_path))
    assert again.returncode == 0, again.stderr
    assert digests(seeded) == digests(tmp_path)
    assert set(digests(seeded)) == {"report.json", "trades.json", "fills.json", "equity.json"}
    assert (seeded / "equity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((seeded / "report.json").read_text())
    trades = json.loads((seeded / "trades.json").read_text())
    assert report["trades"] == len(trades) > 0
    assert report["wins"] == sum(Decimal(t["pnl_net_usdt"]) > 0 for t in trades)
    assert report["fills"]["count"] == len(json.loads((seeded / "fills.json").read_text()))
    assert report["profile"] == "balanced" and report["source"]["seed"] == 11
    equity = json.loads((seeded / "equity.json").read_text())
    assert Decimal(report["final_equity_usdt"]) == pytest.approx(Decimal(str(equity[-1]["equity_usdt"])))
    assert json.loads(again.stdout)["trades"] == report["trades"]


def test_a_recording_of_the_seeded_path_replays_to_the_same_trades(seeded, tmp_path):
    recording = tmp_path / "session.jsonl"
    record(recording, seed=11, steps=int(float(MINUTES) * 60_000 / STEP_MS))
    out = tmp_path / "out"
    done = replay("--from", str(recording), "--out", str(out))
    assert done.returncode == 0, done.stderr
    for name in ("trades.json", "fills.json", "equity.json"):
        assert (out / name).read_bytes() == (seeded / name).read_bytes(), name


def test_the_strategy_sees_an_entry_orders_tp_and_sl_as_live_publishes_them():
    """Live, the execution service's OrderEvent carries the order's takeProfit/stopLoss; the replay's must too."""
    bt = Backtest(profiles.load(profiles.DEFAULT_PROFILE), symbols=SYMBOLS)
    seen: list[OrderEvent] = []
    to_engine = bt.engine.on_exec_event

    def record_orders(ev):
        if type(ev) is OrderEvent:
            seen.append(ev)
        return to_engine(ev)

    bt.engine.on_exec_event = record_orders
    bt.run(generated(symbols=SYMBOLS, seed=11, steps=int(float(MINUTES) * 60_000 / STEP_MS)))
    entries = [ev for ev in seen if ev.order_link_id in bt.intents and not ev.reduce_only]
    assert entries
    for ev in entries:  # the order holds the intent's TP/SL on the instrument's tick, as the replay sent them
        intent, tick = bt.intents[ev.order_link_id], bt.ex.instruments[ev.symbol].tick_size
        sent = (to_step(Decimal(intent.take_profit), tick, ROUND_HALF_UP),
                to_step(Decimal(intent.stop_loss), tick, ROUND_HALF_UP))
        assert (ev.take_profit, ev.stop_loss) == tuple(str(p) for p in sent), ev


def test_an_unknown_profile_is_refused(tmp_path):
    done = replay("--seed", "1", "--profile", "yolo", "--out", str(tmp_path))
    assert done.returncode == 2 and "no such profile" in done.stderr


def test_a_replay_leaves_the_live_platform_untouched(redis_server, redis_url, tmp_path):
    live = redis_server.client()
    for k in range(50):
        t = Trade(symbol="BTCUSDT", trade_id=str(k), side=Side.BUY, price="65000.0", size="0.001",
                  exchange_ts_ns=k, received_ts_ns=k)
        live.xadd(c.MARKET_TRADES, {c.PAYLOAD_FIELD: encode(t)})
    live.xgroup_create(c.EXEC_INTENTS, "execution", id="0", mkstream=True)
    live.set(c.SAFE_MODE_KEY, "0")
    live.set("scalper:strategy:profile", "conservative")
    before, conns = snapshot(live), connections(live)
    env = os.environ | {"REDIS_URL": redis_url, "BYBIT_API_KEY": "live-key", "BYBIT_API_SECRET": "live-secret",
                        "EXECUTION_MODE": "LIVE"}
    done = replay("--seed", "11", "--symbols", "BTCUSDT", "--minutes", "1", "--out", str(tmp_path), env=env)
    assert done.returncode == 0, done.stderr
    assert snapshot(live) == before  # no stream, group or key changed
    assert connections(live) == conns  # and nobody even connected to the live Redis
    live.close()


def snapshot(r) -> dict[bytes, bytes]:
    return {k: r.dump(k) for k in sorted(r.keys("*"))} | {b"groups": repr(r.xinfo_groups(c.EXEC_INTENTS)).encode()}


def connections(r) -> int:
    return r.info("stats")["total_connections_received"]


def record(path: Path, *, seed: int, steps: int, symbols: list[str] = SYMBOLS,
           start_ms: int = T0_MS) -> None:
    """Write the generated path as a Bybit v5 public WS session (orderbook.50 and publicTrade lines)."""
    instruments = Exchange(symbols=symbols, balance=Decimal(0)).instruments
    gen = MarketGenerator(symbols=symbols, seed=seed, instruments=instruments)
    enc = msgspec.json.Encoder()
    with path.open("wb") as f:
        for k in range(steps):
            for ev in gen.step(start_ms + k * STEP_MS):
                if isinstance(ev, BookUpdate):
                    line = {"topic": f"orderbook.50.{ev.symbol}", "type": ev.kind, "ts": ev.ts_ms, "cts": ev.cts_ms,
                            "data": {"s": ev.symbol, "b": [[str(p), str(q)] for p, q in ev.bids],
                                     "a": [[str(p), str(q)] for p, q in ev.asks], "u": ev.u, "seq": ev.seq}}
                else:
                    line = {"topic": f"publicTrade.{ev.symbol}", "type": "snapshot", "ts": ev.ts_ms,
                            "data": [{"T": ev.ts_ms, "s": ev.symbol, "S": ev.side, "v": str(ev.size), "p": str(ev.price),
                                      "L": ev.tick_direction, "i": ev.trade_id, "BT": ev.block_trade}]}
                f.write(enc.encode(line) + b"\n")
