"""A seeded recording of a Bybit public session (orderbook.50 + publicTrade), as raw WS JSON lines.

Shaped like Bybit's frames (snapshot then deltas with `u` +1, size "0" deletes, levels leaving the
top 50 deleted, trades with unique ids), so the simulator can replay it and the bench can time it.
"""

from __future__ import annotations

import json
import random
from decimal import Decimal

DEPTH = 50
START_MS = 1_764_000_000_000


def _view(levels: dict[int, int], *, bids: bool) -> dict[int, int]:
    keys = sorted(levels, reverse=bids)[:DEPTH]
    return {p: levels[p] for p in keys}


def _fmt(levels: dict[int, int]) -> dict[str, str]:
    return {f"{p / 10:.1f}": f"{q / 1000:.3f}" for p, q in levels.items()}


def _diff(old: dict[str, str], new: dict[str, str]) -> list[list[str]]:
    out = [[p, s] for p, s in new.items() if old.get(p) != s]
    return out + [[p, "0"] for p in old if p not in new]


def session(*, symbols: list[str], steps: int, seed: int = 7, trade_every: int = 3) -> list[bytes]:
    """`steps` book messages per symbol, and a trade frame every `trade_every` steps."""
    rng = random.Random(seed)
    lines: list[bytes] = []
    state = {}
    for n, s in enumerate(symbols):
        mid = 600_000 + 10_000 * n  # ticks of 0.1
        state[s] = {
            "mid": mid,
            "u": 0,
            "bids": {mid - i: rng.randint(1, 5000) for i in range(1, 70)},
            "asks": {mid + i: rng.randint(1, 5000) for i in range(1, 70)},
            "views": None,
            "tid": 0,
        }
    ts = START_MS
    for step in range(steps):
        for s in symbols:
            ts += 1
            st = state[s]
            if rng.random() < 0.2:  # the market moves a tick: one side eats into the other
                move = rng.choice((-1, 1))
                st["mid"] += move
                mid = st["mid"]
                st["bids"] = {p: q for p, q in st["bids"].items() if p < mid}
                st["asks"] = {p: q for p, q in st["asks"].items() if p > mid}
                st["bids"].setdefault(mid - 1, rng.randint(1, 5000))
                st["asks"].setdefault(mid + 1, rng.randint(1, 5000))
            for _ in range(rng.randint(1, 4)):
                side = st["bids"] if rng.random() < 0.5 else st["asks"]
                sign = -1 if side is st["bids"] else 1
                price = st["mid"] + sign * rng.randint(1, 60)
                if rng.random() < 0.15:
                    side.pop(price, None)
                else:
                    side[price] = rng.randint(1, 5000)
            views = (_fmt(_view(st["bids"], bids=True)), _fmt(_view(st["asks"], bids=False)))
            if st["views"] is None:
                kind, b, a = "snapshot", list(map(list, views[0].items())), list(map(list, views[1].items()))
            else:
                kind, b, a = "delta", _diff(st["views"][0], views[0]), _diff(st["views"][1], views[1])
            st["views"] = views
            st["u"] += 1
            lines.append(
                json.dumps(
                    {
                        "topic": f"orderbook.{DEPTH}.{s}",
                        "type": kind,
                        "ts": ts,
                        "data": {"s": s, "b": b, "a": a, "u": st["u"], "seq": ts},
                        "cts": ts - 1,
                    },
                    separators=(",", ":"),
                ).encode()
            )
            if step % trade_every == 0:
                trades = []
                for _ in range(rng.randint(1, 3)):
                    st["tid"] += 1
                    buy = rng.random() < 0.5
                    trades.append(
                        {
                            "T": ts,
                            "s": s,
                            "S": "Buy" if buy else "Sell",
                            "v": f"{rng.randint(1, 900) / 1000:.3f}",
                            "p": f"{(st['mid'] + (1 if buy else -1)) / 10:.1f}",
                            "L": "PlusTick",
                            "i": f"{s}-{st['tid']}",
                            "BT": False,
                        }
                    )
                lines.append(
                    json.dumps(
                        {"topic": f"publicTrade.{s}", "type": "snapshot", "ts": ts, "data": trades},
                        separators=(",", ":"),
                    ).encode()
                )
    return lines


def reference_book(lines: list[bytes], symbol: str) -> dict:
    """An independent, naive book: Decimal-keyed dicts, applied message by message."""
    bids: dict[Decimal, str] = {}
    asks: dict[Decimal, str] = {}
    u = 0
    for line in lines:
        msg = json.loads(line)
        if not msg.get("topic", "").startswith("orderbook.") or msg["data"]["s"] != symbol:
            continue
        d = msg["data"]
        if msg["type"] == "snapshot":
            bids, asks = {}, {}
        for side, levels in ((bids, d["b"]), (asks, d["a"])):
            for p, q in levels:
                if Decimal(q) == 0:
                    side.pop(Decimal(p), None)
                else:
                    side[Decimal(p)] = q
        u = d["u"]
    return {
        "bids": [[str(p), bids[p]] for p in sorted(bids, reverse=True)],
        "asks": [[str(p), asks[p]] for p in sorted(asks)],
        "u": u,
    }
