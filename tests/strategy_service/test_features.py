"""Each feature on hand-computed cases."""

import math
import pytest

from strategy_service.features import SymbolFeatures
from strategy_service.profile import FeatureParams

pytestmark = pytest.mark.unit

P = FeatureParams(bar_ms=1000, window_bars=5, momentum_bars=2, pump_bars=3, warmup_bars=1)


def bar(f: SymbolFeatures, t_ms: int, price: float, volume: float = 1.0, count: int = 1):
    """Put one bar's trades in (as the engine does) and close it with a message at t_ms + 1000."""
    f.last, f.vol, f.count = price, volume, count
    return f.roll(t_ms + 1000)


def started() -> SymbolFeatures:
    f = SymbolFeatures(P)
    assert f.roll(0) is None  # the first message opens the first bar
    return f


def test_returns_momentum_and_pump_windows():
    f = started()
    prices = [100.0, 101.0, 102.0, 101.0, 103.0]
    snaps = [bar(f, i * 1000, p) for i, p in enumerate(prices)]
    r = [0.0] + [math.log(b / a) for a, b in zip(prices, prices[1:], strict=False)]
    assert [s.ret_bps for s in snaps] == pytest.approx([x * 1e4 for x in r])
    assert snaps[-1].momentum_bps == pytest.approx((r[3] + r[4]) * 1e4)
    assert snaps[-1].pump_bps == pytest.approx((r[2] + r[3] + r[4]) * 1e4)
    assert snaps[-1].vol_bps == pytest.approx(math.sqrt(sum(x * x for x in r) / 5) * 1e4)


def test_volume_and_count_z_scores_against_the_previous_window():
    f = started()
    for i, v in enumerate([1.0, 3.0, 1.0, 3.0]):
        bar(f, i * 1000, 100.0, volume=v, count=int(v))
    s = bar(f, 4000, 100.0, volume=5.0, count=5)
    # previous window: 1, 3, 1, 3 -> mean 2, std 1 -> z of 5 is 3
    assert s.volume_z == pytest.approx(3.0)
    assert s.count_z == pytest.approx(3.0)
    assert s.trades_per_bar == pytest.approx((1 + 3 + 1 + 3 + 5) / 5)


def test_a_flat_window_gives_zero_z_not_a_division_error():
    f = started()
    for i in range(4):
        bar(f, i * 1000, 100.0, volume=2.0)
    assert bar(f, 4000, 100.0, volume=9.0).volume_z == 0.0


def test_the_window_forgets_bars_older_than_its_length():
    f = started()
    for i, p in enumerate([100.0, 200.0, 200.0, 200.0, 200.0, 200.0, 200.0]):
        s = bar(f, i * 1000, p)
    assert s.vol_bps == 0.0  # the 100 -> 200 jump has left the 5-bar window
    assert s.bars == 7


def test_quiet_seconds_close_as_empty_bars():
    f = started()
    bar(f, 0, 100.0, volume=4.0)
    f.last, f.vol, f.count = 110.0, 1.0, 1
    s = f.roll(4500)  # bar 1 closes with the trade, bars 2 and 3 close empty
    assert s.bars == 4 and s.bar_end_ms == 4000
    assert s.ret_bps == 0.0 and s.momentum_bps == 0.0  # 2-bar momentum: two empty bars
    assert s.pump_bps == pytest.approx(math.log(1.1) * 1e4)  # 3 bars back reaches the jump
    assert f.bar_end == 5000


def test_running_sums_equal_exact_sums_after_many_laps():
    f = started()
    for i in range(103):
        bar(f, i * 1000, 100.0 + (i * 7919 % 13) / 10, volume=(i * 31 % 7) + 0.5)
    assert f.sum_r2 == pytest.approx(sum(r * r for r in f.rets), rel=1e-9)
    assert f.sum_v == pytest.approx(sum(f.vols), rel=1e-12)


def test_spread_imbalance_and_ofi_from_the_book():
    f = started()
    f.on_book([("99.9", "2"), ("99.8", "4")], [("100.1", "1"), ("100.2", "1")])
    assert f.spread_bps == pytest.approx(0.2 / 100.0 * 1e4)
    assert f.imbalance == pytest.approx((6 - 2) / 8)
    # the bid rises to 100.0 with size 3 (+3); the ask stays at 100.1, its size 1 -> 2 (-2 + 1)
    f.on_book([("100.0", "3")], [("100.1", "2")])
    assert f.ofi_acc == pytest.approx(3 - 2 + 1)
    s = bar(f, 0, 100.0)
    # normalised by the mean top size: 1.5, then moved a tenth of the way to 2.5
    assert s.ofi == pytest.approx(2 / 1.6)
    assert (s.bid, s.ask) == (100.0, 100.1)
