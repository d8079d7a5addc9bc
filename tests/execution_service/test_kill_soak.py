"""kill -9 at random moments during a stream of intents, many times (seeded): after every restart no
duplicate order, no ghost order, no position without TP and SL; at the end every intent is filled,
rejected with a reason, or cancelled. The long version is bench/kill_soak.py."""

from __future__ import annotations

import os
import random
import signal
import time

import pytest

from common import constants as c
from tests.support import wait_until

pytestmark = pytest.mark.service

KILLS = int(os.environ.get("SCALPER_SOAK_KILLS", "50"))  # bench/kill_soak.py asks for more
SEED = int(os.environ.get("SCALPER_SOAK_SEED", "7"))
FINAL = c.FINAL_INTENT_STATUSES


def check_invariants(execution, sent: list[str]) -> None:
    mine = set(sent)
    history = [o for o in execution.all_history() if o["orderLinkId"] in mine]
    links = [o["orderLinkId"] for o in history]
    assert len(links) == len(set(links)), f"duplicate orders: {links}"
    # an order is ours on the exchange only once: the intent id and its fallback never both
    open_ex = {o["orderLinkId"] for o in execution.orders() if o["orderLinkId"]}
    open_view = set(execution.view(c.EXEC_ORDERS_KEY))
    assert open_ex == open_view, f"ghost orders: exchange {open_ex} vs view {open_view}"
    naked = [p["symbol"] for p in execution.positions()
             if float(p["takeProfit"] or 0) == 0 or float(p["stopLoss"] or 0) == 0]
    assert not naked, f"positions without TP/SL: {naked}"


def test_kill_9_soak(execution):
    rng = random.Random(SEED)
    sent: list[str] = []
    checked = 0
    for n in range(KILLS):
        execution.start()
        during_boot = rng.random() < 0.4  # killed while booting or recovering, before it is checked
        if not during_boot:
            execution.wait_state("NORMAL", timeout=60)
            check_invariants(execution, sent)
            checked += 1
        for _ in range(rng.randint(1, 3)):
            symbol = rng.choice(["BTCUSDT", "ETHUSDT"])
            side = rng.choice(["Buy", "Sell"])
            p = execution.price(symbol)
            up, down = f"{p * 1.03:.2f}", f"{p * 0.97:.2f}"
            i = execution.intent(symbol=symbol, side=side, qty="0.01" if symbol == "BTCUSDT" else "0.1",
                                 intent_id=f"m-soak-{n}-{len(sent)}", take_profit=up if side == "Buy" else down,
                                 stop_loss=down if side == "Buy" else up, reference_price=str(p))
            sent.append(i.intent_id)
        time.sleep(rng.uniform(0, 1.5 if during_boot else 0.3))
        execution.stop(signal.SIGKILL)
    execution.start().wait_state("NORMAL", timeout=60)

    def all_final():
        recs = {i: execution.record(i) for i in sent}
        return all(r is not None and r["status"] in FINAL for r in recs.values()) and recs
    try:
        recs = wait_until(all_final, timeout=90, what="every intent filled, rejected or cancelled")
    except AssertionError:
        stuck = {i: execution.record(i) for i in sent}
        raise AssertionError(f"unfinished: {[r for r in stuck.values() if not r or r['status'] not in FINAL]} "
                             f"{[i for i, r in stuck.items() if r is None]}")
    assert all(r["reason"] for r in recs.values() if r["status"] == "rejected")
    wait_until(lambda: execution.view(c.EXEC_ORDERS_KEY) == {} or None, timeout=20, what="no open orders left")
    check_invariants(execution, sent)
    filled = sum(r["status"] == "filled" for r in recs.values())
    assert filled >= len(sent) * 0.8, f"only {filled} of {len(sent)} intents filled"
    assert checked >= KILLS // 2
