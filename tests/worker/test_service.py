"""When the worker calls the backups overdue (its CRIT alert's rule)."""

from __future__ import annotations

import pytest

from worker.service import backup_overdue

pytestmark = pytest.mark.unit

H = 3600.0


def test_a_recent_good_backup_is_not_overdue():
    assert backup_overdue(last_success_ts=100 * H, started_ts=0, now=120 * H, max_age_s=26 * H) is None


def test_an_old_backup_is_overdue_whenever_the_worker_started():
    assert backup_overdue(last_success_ts=10 * H, started_ts=99 * H, now=100 * H,
                          max_age_s=26 * H) == "newest good backup 90.0 h old"


def test_no_backup_at_all_is_overdue_once_the_worker_has_been_up_that_long():
    assert backup_overdue(last_success_ts=None, started_ts=90 * H, now=100 * H, max_age_s=26 * H) is None
    assert backup_overdue(last_success_ts=None, started_ts=0, now=27 * H,
                          max_age_s=26 * H) == "no good backup since the worker started 27.0 h ago"
