"""dashboard.latency_histograms: a Prometheus histogram's buckets become its distribution and quantiles."""

from __future__ import annotations

import pytest
from dashboard.latency_histograms import histograms, tick_to_order

from tests.dashboard.conftest import EXEC_EXPOSITION

pytestmark = pytest.mark.unit


def test_a_histograms_buckets_become_its_distribution_and_quantiles():
    [row] = histograms(EXEC_EXPOSITION)  # not the counter, nor the ack series without samples
    assert row["name"] == "scalper_exec_latency_seconds" and row["labels"] == {"stage": "tick_to_order"}
    assert row["count"] == 10
    assert row["buckets"] == [{"le": 0.001, "count": 3}, {"le": 0.01, "count": 0}, {"le": 0.1, "count": 6},
                              {"le": "+Inf", "count": 1}]
    assert (row["p50"], row["p90"], row["p99"]) == (0.1, 0.1, "+Inf")  # JSON has no infinity
    services = {"execution": {"error": "", "histograms": [row]}}
    assert tick_to_order(services) is row
    assert tick_to_order({"execution": {"error": "unreachable", "histograms": []}}) is None
