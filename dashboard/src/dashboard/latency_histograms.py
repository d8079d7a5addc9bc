"""Latency histograms scraped from each service's own Prometheus endpoint (METRICS_HOST and its port).

p50/p90/p99 are estimated from the cumulative buckets (the upper bound of the bucket that holds the
quantile), as Prometheus' histogram_quantile does without interpolation. Each series also carries its
distribution, the samples per bucket (not cumulative), for the page's bar charts. The unbounded bucket's
bound is "+Inf", as Prometheus writes it: JSON has no infinity.
"""

from __future__ import annotations

import asyncio
import math

import httpx
from common.config import Settings
from prometheus_client.parser import text_string_to_metric_families

from common import constants as c

SCRAPE_TIMEOUT_S = 1.0
QUANTILES = (0.5, 0.9, 0.99)
TICK_TO_ORDER = "scalper_exec_latency_seconds"  # the execution service's histogram, stage="tick_to_order"
FEED = "scalper_market_feed_latency_seconds"
HANDLER = "scalper_bus_handler_seconds"
# The path of one order, stage by stage: (stage, service, histogram, its labels). Together they make up
# tick-to-order; the bus hops between services are measured by the receiving stage where a service does.
CHAIN = (
    ("feed: exchange -> market received", c.MARKET, FEED, {"hop": "exchange_to_received"}),
    ("market: received -> published", c.MARKET, FEED, {"hop": "received_to_published"}),
    ("strategy: decision on a trade", c.STRATEGY, HANDLER, {"stream": c.MARKET_TRADES}),
    ("strategy: decision on a book", c.STRATEGY, HANDLER, {"stream": c.MARKET_BOOK}),
    ("intent: published -> execution received", c.EXECUTION, TICK_TO_ORDER, {"stage": "received"}),
    ("execution: received -> REST sent", c.EXECUTION, TICK_TO_ORDER, {"stage": "sent"}),
    ("exchange: REST sent -> ack", c.EXECUTION, TICK_TO_ORDER, {"stage": "ack"}),
)


def _bound(le: float) -> float | str:
    return "+Inf" if math.isinf(le) else le


def _quantile(buckets: list[tuple[float, float]], q: float) -> float | str | None:
    total = buckets[-1][1] if buckets else 0
    if not total:
        return None
    for bound, count in buckets:
        if count >= q * total:
            return _bound(bound)
    return "+Inf"


def _distribution(buckets: list[tuple[float, float]]) -> list[dict]:
    """Cumulative `le` buckets as samples per bucket: [{"le": upper bound, "count": n}, ...], +Inf last."""
    below = [0.0] + [count for _, count in buckets[:-1]]
    return [{"le": _bound(le), "count": count - prev}
            for (le, count), prev in zip(buckets, below, strict=True)]


def histograms(text: str) -> list[dict]:
    """Each histogram series in a Prometheus exposition: name, labels, count, p50/p90/p99 (s or unit) and
    buckets (its distribution)."""
    out = []
    for family in text_string_to_metric_families(text):
        if family.type != "histogram":
            continue
        series: dict[tuple, dict] = {}
        for s in family.samples:
            labels = {k: v for k, v in s.labels.items() if k != "le"}
            row = series.setdefault(tuple(sorted(labels.items())), {"labels": labels, "buckets": []})
            if s.name.endswith("_bucket"):
                row["buckets"].append((float(s.labels["le"]), s.value))
            elif s.name.endswith("_count"):
                row["count"] = s.value
        for row in series.values():
            buckets = sorted(row.pop("buckets"))
            if not row.get("count"):
                continue
            row.update(name=family.name, **{f"p{round(q * 100)}": _quantile(buckets, q) for q in QUANTILES},
                       buckets=_distribution(buckets))
            out.append(row)
    return out


async def scrape(settings: Settings) -> dict[str, dict]:
    """Per service: its latency histograms, or why there are none (metrics off, unreachable)."""

    async def one(client: httpx.AsyncClient, service: str) -> tuple[str, dict]:
        port = settings.metrics_port(service)
        if port <= 0:
            return service, {"error": "metrics port not fixed (0 or -1): nothing to scrape", "histograms": []}
        try:
            r = await client.get(f"http://{settings.metrics_host}:{port}/metrics")
            r.raise_for_status()
        except httpx.HTTPError as e:
            return service, {"error": f"unreachable: {type(e).__name__}", "histograms": []}
        return service, {"error": "", "histograms": histograms(r.text)}

    async with httpx.AsyncClient(timeout=SCRAPE_TIMEOUT_S) as client:
        return dict(await asyncio.gather(*(one(client, s) for s in c.SERVICES)))


def _find(services: dict[str, dict], service: str, name: str, labels: dict[str, str]) -> dict | None:
    return next((h for h in services[service]["histograms"] if h["name"] == name and h["labels"] == labels),
                None)


def tick_to_order(services: dict[str, dict]) -> dict | None:
    """Execution's tick-to-order stage (the market event behind an intent -> its order sent), the hop the
    whole platform exists to keep short; None until execution has sent an order from a signal."""
    return _find(services, c.EXECUTION, TICK_TO_ORDER, {"stage": "tick_to_order"})


def chain(services: dict[str, dict]) -> list[dict]:
    """Each stage of tick-to-order in path order: {"stage", "service", "histogram" (None: no samples)}."""
    return [{"stage": stage, "service": service, "histogram": _find(services, service, name, labels)}
            for stage, service, name, labels in CHAIN]
