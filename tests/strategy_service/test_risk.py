"""Each risk rule on hand-computed cases."""

import pytest

from strategy_service.profile import RiskParams
from strategy_service.risk import DAY_MS, RiskEngine

pytestmark = pytest.mark.unit

P = RiskParams(equity_usdt=10_000, risk_per_trade_pct=0.5, max_open_positions=2, max_exposure_pct=100,
               daily_loss_limit_pct=3, max_drawdown_pct=5, max_consecutive_losses=2, loss_cooldown_ms=1000)


def fresh() -> RiskEngine:
    r = RiskEngine(P)
    r.new_day(0)
    return r


def test_size_risks_the_percentage_at_the_stop():
    # 0.5 % of 10 000 = 50 USDT at risk; stop 0.5 away -> 100 units, 10 000 notional at 100: fits
    qty, why = fresh().size(price=100.0, stop_distance=0.5, qty_step=0.001, min_qty=0.001)
    assert (qty, why) == (pytest.approx(100.0), "")


def test_size_is_capped_by_exposure_and_rounded_down_to_the_step():
    r = fresh()
    r.exposure["ETHUSDT"] = 7_000.0  # room left: 3 000 USDT -> 30 units at 100
    qty, _ = r.size(price=100.0, stop_distance=0.1, qty_step=0.7, min_qty=0.7)
    assert qty == pytest.approx(29.4)  # 30 floored to a multiple of 0.7
    r.exposure["SOLUSDT"] = 3_000.0
    assert r.size(price=100.0, stop_distance=0.1, qty_step=0.001, min_qty=0.001) == (0.0, "max exposure reached")


def test_blocks_in_order_of_precedence():
    r = fresh()
    assert r.blocked(now_ms=0, stale=False, safe_mode=False) == ""
    assert r.blocked(now_ms=0, stale=True, safe_mode=False) == "stale market data"
    assert r.blocked(now_ms=0, stale=True, safe_mode=True) == "safe mode"
    r.exposure.update(A=1.0, B=1.0)
    assert r.blocked(now_ms=0, stale=False, safe_mode=False) == "max open positions (2) reached"


def test_daily_loss_limit_trips_the_kill_switch_until_the_next_day():
    r = fresh()
    r.on_pnl(-299.0, now_ms=10)
    assert not r.killed
    r.on_pnl(-1.0, now_ms=20)  # 300 of 10 000 = 3 %
    assert r.killed.startswith("daily loss 3.00 %") and r.kills == 1
    assert r.blocked(now_ms=30, stale=False, safe_mode=False).startswith("kill switch: daily loss")
    r.new_day(DAY_MS + 1)
    assert r.killed == "" and r.day_start == pytest.approx(9_700.0)


def test_drawdown_from_the_peak_stays_tripped_until_reset():
    r = fresh()
    r.on_pnl(+1_000.0, now_ms=0)  # peak 11 000
    r.on_pnl(-260.0, now_ms=DAY_MS)  # next day: daily loss 2.4 %, drawdown 2.4 %
    r.on_pnl(-290.0, now_ms=DAY_MS + 1)  # drawdown 550 / 11 000 = 5 %; daily 550 / 11 000 too, but 3 % first
    assert r.killed.startswith("daily")
    r2 = fresh()
    r2.on_pnl(+1_000.0, now_ms=0)
    for day in range(1, 4):  # 200 a day: never 3 % daily, 600 / 11 000 = 5.45 % drawdown on day 3
        r2.on_pnl(-200.0, now_ms=day * DAY_MS)
    assert r2.killed.startswith("drawdown 5.45 %")
    r2.new_day(10 * DAY_MS)
    assert r2.killed  # a new day does not clear a drawdown kill
    r2.reset_kill()
    assert r2.killed == "" and r2.blocked(now_ms=10 * DAY_MS, stale=False, safe_mode=False) == ""


def test_consecutive_losses_pause_entries():
    r = fresh()
    r.on_trade_closed(-1.0, now_ms=100)
    r.on_trade_closed(+1.0, now_ms=200)  # a win resets the streak
    r.on_trade_closed(-1.0, now_ms=300)
    assert r.blocked(now_ms=300, stale=False, safe_mode=False) == ""
    r.on_trade_closed(-1.0, now_ms=400)
    assert r.blocked(now_ms=1399, stale=False, safe_mode=False) == "cooldown after 2 losses in a row"
    assert r.blocked(now_ms=1400, stale=False, safe_mode=False) == ""
