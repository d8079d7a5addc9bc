"""The daily loss on the wallet's equity: the kill trips at the limit, and the UTC day only moves forward."""

from __future__ import annotations

import pytest

from execution_service.equity import DAY_MS, DayState, advance

pytestmark = pytest.mark.unit

TODAY = 20_000 * DAY_MS  # 00:00 UTC of some day


def test_the_kill_trips_at_the_limit_and_a_late_reading_dated_yesterday_does_not_reset_it():
    st = DayState()
    assert advance(st, equity=10_000.0, ts_ms=TODAY + 1_000, limit_pct=3.0) == ""
    assert advance(st, equity=9_800.0, ts_ms=TODAY + 2_000, limit_pct=3.0) == ""
    tripped = advance(st, equity=9_690.0, ts_ms=TODAY + 3_000, limit_pct=3.0)
    assert tripped.startswith("daily loss 3.100 %") and st.killed == tripped

    assert advance(st, equity=10_500.0, ts_ms=TODAY - 5_000, limit_pct=3.0) == ""  # late, dated yesterday
    assert (st.day, st.killed, st.equity) == (TODAY // DAY_MS, tripped, 9_690.0)
    assert advance(st, equity=9_700.0, ts_ms=TODAY + 2_500, limit_pct=3.0) == ""  # older than the newest
    assert st.equity == 9_690.0

    advance(st, equity=9_690.0, ts_ms=TODAY + DAY_MS + 1, limit_pct=3.0)  # the next UTC day
    assert (st.killed, st.day_start) == ("", 9_690.0)
