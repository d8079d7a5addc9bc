"""Which release each service runs, as its heartbeats say (`version` the package version, `release` the
commit): the services page, the header, the deploys page, and a scenario checking that a roll forward
reached every service all read it here."""

from __future__ import annotations

from dashboard.health_monitor import HealthMonitor

SHORT = 12  # a commit shown to people: its first 12 hex digits


def label(version: str | None, release: str | None) -> str:
    """"0.1.0 @ 1a2b3c4d5e6f", the version alone when the release is unknown, "" before a heartbeat."""
    if not version:
        return ""
    return f"{version} @ {release[:SHORT]}" if release else version


def running(monitor: HealthMonitor) -> dict[str, dict[str, str]]:
    """Each service that has beaten: {"version", "release", "label"} (release "" when it does not say)."""
    return {s["name"]: {"version": s["version"], "release": s["release"] or "",
                        "label": label(s["version"], s["release"])}
            for s in monitor.snapshot()["services"] if s["version"] is not None}


def cluster(monitor: HealthMonitor) -> str:
    """What the header shows: the one label every service that has beaten runs, "mixed: a, b" while they
    differ (mid-deploy, or one not restarted), "" before any heartbeat."""
    labels = sorted({v["label"] for v in running(monitor).values()})
    if len(labels) > 1:
        return "mixed: " + ", ".join(labels)
    return labels[0] if labels else ""
