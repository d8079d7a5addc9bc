"""The auto-update's record on this host, read where deploy/autoupdate/scalper-update leaves it.

The `current` and `previous` symlinks under the opt dir (/opt/scalper) each name a release dir,
`releases/<commit>`; STATE/history.jsonl has one JSON line per deploy, refusal or rollback (ts,
commit, from, outcome, seconds, detail); STATE/bad-commits lists the commits never deployed again.
One reader for `scalperctl deploy` and the dashboard's deploys page: both show the same thing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

OPT_DIR = Path("/opt/scalper")
STATE_DIR = Path("/var/lib/scalper-deploy")
HISTORY_FILE = "history.jsonl"


def release(opt_dir: Path, link: str) -> str | None:
    """The commit a release symlink (`current`, `previous`) points to, or None."""
    try:
        return os.readlink(opt_dir / link).rstrip("/").rsplit("/", 1)[-1]
    except OSError:
        return None


def history(state_dir: Path) -> list[dict]:
    """The deploy history, newest first; a torn last line (a crash mid-write) is skipped."""
    try:
        lines = (state_dir / HISTORY_FILE).read_text().splitlines()
    except FileNotFoundError:
        return []
    entries = []
    for line in reversed(lines):
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return entries


def status(*, opt_dir: Path, state_dir: Path) -> dict:
    """What runs, what ran before, the last attempt, and the commits that will not be retried."""
    try:
        bad = [c for c in (state_dir / "bad-commits").read_text().split() if c]
    except FileNotFoundError:
        bad = []
    last = next(iter(history(state_dir)), None)
    return {"current": release(opt_dir, "current"), "previous": release(opt_dir, "previous"),
            "last": last, "not_retried": bad}


def recorded(state_dir: Path) -> bool:
    """Whether the auto-update keeps its history here at all (not under `make run` or tests)."""
    return (state_dir / HISTORY_FILE).is_file()
