"""The launcher of scenario 7's replay: `python -m dashboard.scenarios.sandbox --out DIR [limits] -- CMD...`.

It lowers its own limits (address space, CPU seconds, priority) and raises its OOM score (the replay shares
the dashboard unit's cgroup: at the unit's MemoryMax= the kernel kills the replay, not the dashboard), writes
DIR/sandbox.json (each limit applied
or refused, and the names of the environment variables CMD gets), then becomes CMD (exec), so the limits
hold for CMD and nothing of the dashboard stays in the process. A limit the kernel or a syscall filter
refuses is recorded as refused, not fatal: the run shows it (the dashboard's unit allows setpriority,
which the services' shared filter denies: deploy/systemd/scalper-dashboard.service.d/syscalls.conf).
The caller passes the environment; this module only reports it, names only, never values.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
from pathlib import Path

SANDBOX_FILE = "sandbox.json"


def apply_limits(*, as_mb: int, cpu_s: int, nice: int, oom_score_adj: int) -> dict[str, str]:
    """Each limit, "applied" or "refused: <error>"."""
    outcome = {}
    for name, what, value in (("RLIMIT_AS", resource.RLIMIT_AS, as_mb * 1024 * 1024),
                              ("RLIMIT_CPU", resource.RLIMIT_CPU, cpu_s)):
        try:
            resource.setrlimit(what, (value, value))
            outcome[name] = "applied"
        except (OSError, ValueError) as e:
            outcome[name] = f"refused: {e}"
    try:
        os.nice(nice)
        outcome["nice"] = "applied"
    except OSError as e:
        outcome["nice"] = f"refused: {e}"
    try:
        Path("/proc/self/oom_score_adj").write_text(f"{oom_score_adj}\n")
        outcome["oom_score_adj"] = "applied"
    except OSError as e:
        outcome["oom_score_adj"] = f"refused: {e}"
    return outcome


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m dashboard.scenarios.sandbox")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--as-mb", type=int, required=True)
    p.add_argument("--cpu-s", type=int, required=True)
    p.add_argument("--nice", type=int, required=True)
    p.add_argument("--oom-score-adj", type=int, required=True)
    p.add_argument("cmd", nargs="+")
    args = p.parse_args(argv)
    limits = apply_limits(as_mb=args.as_mb, cpu_s=args.cpu_s, nice=args.nice,
                          oom_score_adj=args.oom_score_adj)
    report = {"pid": os.getpid(), "cmd": args.cmd, "env": sorted(os.environ),
              "limits": {"RLIMIT_AS_mb": args.as_mb, "RLIMIT_CPU_s": args.cpu_s, "nice": args.nice,
                         "oom_score_adj": args.oom_score_adj},
              "outcome": limits}
    (args.out / SANDBOX_FILE).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    sys.stdout.flush()
    os.execv(args.cmd[0], args.cmd)


if __name__ == "__main__":
    main()
