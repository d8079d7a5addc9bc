"""Prometheus metrics every service shares, and the per-service HTTP exporter.

Names follow Prometheus conventions: `scalper_` prefix, base units, `_total` for counters.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, Info, start_http_server

BUS_MESSAGES_IN = Counter("scalper_bus_messages_in_total", "Bus entries delivered to a handler", ["stream"])
BUS_MESSAGES_OUT = Counter("scalper_bus_messages_out_total", "Bus entries published", ["stream"])
BUS_HANDLER_SECONDS = Histogram(
    "scalper_bus_handler_seconds", "Time a handler took for one message", ["stream"],
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0),
)
BUS_CONSUMER_LAG = Gauge("scalper_bus_consumer_lag", "Entries not yet delivered to our group", ["stream"])
BUS_DEAD_LETTERS = Counter("scalper_bus_dead_letters_total", "Entries sent to the dead-letter stream", ["stream"])
BUS_RECONNECTS = Counter("scalper_bus_reconnects_total", "Times the bus lost Redis and reconnected")
HEARTBEATS = Counter("scalper_heartbeats_total", "Heartbeats published")
SAFE_MODE = Gauge("scalper_safe_mode", "1 while the service holds safe mode")
BUILD = Info("scalper_build", "Service name and version")


def serve(*, host: str, port: int, service: str, version: str) -> int | None:
    """Expose /metrics; returns the bound port (port 0 picks a free one), None when disabled (-1)."""
    BUILD.info({"service": service, "version": version})
    if port < 0:
        return None
    server, _thread = start_http_server(port, addr=host)
    return server.server_address[1]
