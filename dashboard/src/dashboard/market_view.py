"""The market service's per-symbol summary as people read it: prices on the tick the last trade's price
shows, spread in bps and feed latency in ms with two decimals, times in UTC seconds, no sequence numbers."""

from __future__ import annotations

from dashboard import formatting as fmt


def display(row: dict) -> dict[str, str]:
    """One symbol's summary, formatted (the raw summary stays in the API beside it)."""
    tick = fmt.step_of(row.get("last_price"))
    return {
        "last_price": fmt.price(row.get("last_price"), tick=tick),
        "bid": fmt.price(row.get("bid"), tick=tick), "ask": fmt.price(row.get("ask"), tick=tick),
        "spread": fmt.price(row.get("spread"), tick=tick), "spread_bps": fmt.bps(row.get("spread_bps")),
        "latency": fmt.ms(row.get("latency_ms")), "stale": row.get("stale") or "no",
        "exchange_time": fmt.utc(row.get("exchange_ts_ns")), "updated": fmt.utc(row.get("updated_ts_ns")),
    }


def view(symbols: dict[str, dict]) -> dict:
    """The summary by symbol, raw and formatted."""
    return {"symbols": symbols, "display": {s: display(row) for s, row in symbols.items()}}
