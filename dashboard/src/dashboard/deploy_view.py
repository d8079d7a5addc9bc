"""The auto-update's record as the operator reads it: the current and previous release, the deploy
history (commit, from, outcome, duration, detail, time), the commits never retried; and the last deploy
for the overview. Read from DEPLOY_STATE_DIR and DEPLOY_OPT_DIR through common.deploy_history, the
reader `scalperctl deploy` uses; where the auto-update never ran (make run, a test) it says so."""

from __future__ import annotations

from common import deploy_history
from common.config import Settings

from dashboard import formatting as fmt
from dashboard.running_versions import SHORT

HISTORY_SHOWN = 100
# How each outcome scalper-update records reads: ok, warn (an operator's rollback) or failed.
OUTCOME_CLASS = {"deployed": "ok", "rollback": "warn"}


def _not_recorded(settings: Settings) -> str:
    return (f"no deploy history: {settings.deploy_state_dir / deploy_history.HISTORY_FILE} does not exist. "
            "The auto-update (deploy/ansible) keeps it on a deployed host; under `make run` the platform "
            "runs from this checkout and nothing is deployed")


def entry(e: dict) -> dict:
    """One history line with its display: short commits, the time in UTC, the duration with its unit."""
    ts = e.get("ts") or 0
    return {
        "ts": ts, "commit": e.get("commit", ""), "from": e.get("from") or "", "outcome": e.get("outcome", ""),
        "seconds": e.get("seconds"), "detail": e.get("detail", ""),
        "kind": OUTCOME_CLASS.get(e.get("outcome", ""), "failed"),
        "display": {"when": fmt.utc(int(ts * fmt.NS_PER_S)), "took": fmt.duration(e.get("seconds")),
                    "commit": e.get("commit", "")[:SHORT], "from": (e.get("from") or "")[:SHORT]},
    }


def deploys(settings: Settings, *, limit: int = HISTORY_SHOWN) -> dict:
    """Current and previous release, the newest `limit` history entries, the commits never retried; or
    `no_data` saying why there is no history here."""
    st = deploy_history.status(opt_dir=settings.deploy_opt_dir, state_dir=settings.deploy_state_dir)
    return {
        "no_data": None if deploy_history.recorded(settings.deploy_state_dir) else _not_recorded(settings),
        "state_dir": str(settings.deploy_state_dir),
        "current": st["current"], "previous": st["previous"], "not_retried": st["not_retried"],
        "history": [entry(e) for e in deploy_history.history(settings.deploy_state_dir)[:limit]],
    }


def last_deploy(settings: Settings) -> dict:
    """The newest history entry for the overview, or `no_data` saying why there is none."""
    if not deploy_history.recorded(settings.deploy_state_dir):
        return {"no_data": "no deploy history on this host (not deployed by the auto-update)"}
    newest = deploy_history.history(settings.deploy_state_dir)[:1]
    return entry(newest[0]) if newest else {"no_data": "no deploy yet"}
