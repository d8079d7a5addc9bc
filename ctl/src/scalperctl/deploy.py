"""`scalperctl deploy status|history|rollback`: the auto-update's releases and history on this host.

They read what deploy/autoupdate/scalper-update leaves: the `current` and `previous` symlinks under
/opt/scalper (each names a release dir, `releases/<commit>`), STATE/history.jsonl (one JSON line per
deploy, refusal or rollback) and STATE/bad-commits (never deployed again). A rollback runs
scalper-update itself, as root, so the manual path is the tested automatic one. No settings, no Redis.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

COMMANDS = ("deploy",)
OPT_DIR = Path("/opt/scalper")
STATE_DIR = Path("/var/lib/scalper-deploy")
UPDATER = Path("/usr/local/sbin/scalper-update")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    dp = subparsers.add_parser("deploy", help="the running release, the deploy history, a rollback")
    dp.add_argument("--opt-dir", type=Path, default=OPT_DIR, help=argparse.SUPPRESS)
    dp.add_argument("--state-dir", type=Path, default=STATE_DIR, help=argparse.SUPPRESS)
    sub = dp.add_subparsers(dest="deploy_cmd", required=True)
    st = sub.add_parser("status", help="the running and previous release, the last outcome, refused commits")
    st.add_argument("--json", action="store_true")
    hi = sub.add_parser("history", help="deploys, refusals and rollbacks, newest first")
    hi.add_argument("--json", action="store_true")
    hi.add_argument("--limit", type=int, default=20)
    sub.add_parser("rollback", help="back to the previous release, health-gated; the current commit is "
                                    "never deployed again (root)")


def release(opt_dir: Path, link: str) -> str | None:
    """The commit a release symlink (`current`, `previous`) points to, or None."""
    try:
        return os.readlink(opt_dir / link).rstrip("/").rsplit("/", 1)[-1]
    except OSError:
        return None


def history(state_dir: Path) -> list[dict]:
    """The deploy history, newest first; a torn last line (a crash mid-write) is skipped."""
    try:
        lines = (state_dir / "history.jsonl").read_text().splitlines()
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


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _line(entry: dict) -> str:
    return (f"{_when(entry['ts'])}  {entry['outcome']:<14} {entry['commit'][:12]:<12} "
            f"from {(entry.get('from') or '-')[:12]:<12} {entry['seconds']:>4} s  {entry.get('detail', '')}")


def run(args: argparse.Namespace) -> int:
    if args.deploy_cmd == "rollback":
        if os.geteuid() != 0:
            print("scalperctl deploy rollback: run it as root (sudo): it switches releases and restarts units")
            return 1
        os.execv(UPDATER, [str(UPDATER), "--rollback"])
    if args.deploy_cmd == "history":
        entries = history(args.state_dir)[: args.limit]
        print(json.dumps(entries, indent=2) if args.json else "\n".join(_line(e) for e in entries) or "no deploys yet")
        return 0
    view = status(opt_dir=args.opt_dir, state_dir=args.state_dir)
    if args.json:
        print(json.dumps(view, indent=2))
    else:
        print(f"current   {view['current'] or '-'}\nprevious  {view['previous'] or '-'}")
        print(f"last      {_line(view['last']) if view['last'] else '-'}")
        print(f"not retried: {', '.join(c[:12] for c in view['not_retried']) or '-'}")
    return 0 if view["current"] else 1
