"""`scalperctl deploy status|history|rollback`: the auto-update's releases and history on this host.

They read what deploy/autoupdate/scalper-update leaves, through common.deploy_history (the dashboard's
deploys page reads it the same way). A rollback runs scalper-update itself, as root, so the manual path
is the tested automatic one. No settings, no Redis.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from common.deploy_history import OPT_DIR, STATE_DIR, history, status

COMMANDS = ("deploy",)
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
