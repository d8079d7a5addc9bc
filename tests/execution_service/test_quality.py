"""Rapid-fire intents with TP/SL (scenario 6): the quality and latency figures agree with the
simulator's own fills."""

from __future__ import annotations

import re

import pytest
import redis.asyncio as aioredis

from common.schemas import now_ns
from execution_service.quality import summary
from tests.support import wait_until

pytestmark = pytest.mark.service

N = 20


async def test_rapid_fire_quality_matches_the_simulators_fills(execution, redis_url):
    execution.start().wait_state("NORMAL")
    p = execution.price()
    ids = []
    for n in range(N):
        side = "Buy" if n % 2 == 0 else "Sell"
        up, down = f"{p * 1.03:.1f}", f"{p * 0.97:.1f}"
        tick_ns = now_ns() - 2_000_000  # the market event behind it, 2 ms earlier (half of them carry one)
        chain = dict(market_exchange_ts_ns=tick_ns, market_received_ts_ns=tick_ns) if n % 2 else {}
        ids.append(execution.intent(side=side, intent_id=f"m-rapid-{n}", reference_price=f"{p:.1f}",
                                    take_profit=up if side == "Buy" else down,
                                    stop_loss=down if side == "Buy" else up, **chain).intent_id)
    wait_until(lambda: all((r := execution.record(i)) and r["status"] == "filled" for i in ids), timeout=60,
               what="every rapid-fire intent filled")
    fills = [e for e in execution.get("/v5/execution/list", symbol="BTCUSDT", limit=100)["list"]
             if e["orderLinkId"] in ids]
    r = aioredis.from_url(redis_url)
    try:
        q = await summary(r, "BTCUSDT")
    finally:
        await r.aclose()
    assert q["fills"] == len(fills) and q["orders"] == N
    assert q["fill_qty"] == pytest.approx(sum(float(e["execQty"]) for e in fills))
    assert q["fees"] == pytest.approx(sum(float(e["execFee"]) for e in fills))
    assert q["fill_ratio"] == pytest.approx(1.0)
    taker = sum(float(e["execQty"]) for e in fills if not e["isMaker"])
    assert q.get("taker_qty", 0) == pytest.approx(taker) and q["maker_share"] == pytest.approx(1 - taker / q["fill_qty"])
    vwap_slip = sum((1 if e["side"] == "Buy" else -1) * (float(e["execPrice"]) - float(f"{p:.1f}"))
                    / float(f"{p:.1f}") * 1e4 * float(e["execQty"]) for e in fills) / q["fill_qty"]
    assert q["slippage_bps"] == pytest.approx(vwap_slip)
    metrics = execution.metrics()
    for stage, n in {"received": N, "sent": N, "ack": N, "first_event": N, "fill": N, "tick_to_order": N // 2}.items():
        count = re.search(rf'scalper_exec_latency_seconds_count{{stage="{stage}"}} (\S+)', metrics)
        assert count and float(count.group(1)) == n, stage
    # tick-to-order includes the 2 ms the market event is older: no sample lands below it
    below = re.search(r'scalper_exec_latency_seconds_bucket{le="0.001",stage="tick_to_order"} (\S+)', metrics)
    assert below and float(below.group(1)) == 0
