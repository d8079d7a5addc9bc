"""Tick to order while background work takes every core: what the units' CPU priorities buy.

    uv run python bench/background_load.py [--seconds 20] [--runs 3] [--hogs 2] [--load realistic]

On a 2-core VPS the platform shares the CPU with its own housekeeping: the worker gzips backups, and the
auto-update builds a release (uv unpacking and byte-compiling on every core) while the services trade.
scalper-worker.service and scalper_update.service run that work at CPUWeight=10 and Nice=10. Each run
measures tick_to_order.py's platform (its `trading` setup and stages, e2e = the frame's send to the
order's ack in hand) three ways, in a rotating order:

| condition | background |
|---|---|
| quiet | none: the same-run baseline |
| background, nice 0 | --hogs processes gzipping 1 MiB in a loop at the services' priority (units without the setting) |
| background, nice N | the same hogs at the Nice= of scalper_update.service (read from the unit) |

The bench runs the processes without systemd, so the hogs' nice stands for both settings: with the cpu
controller on, CPUWeight=10 against a service's 100 is a 1:10 share between the units; with it off,
nice 10 is a 1:9.3 weight between the processes (the kernel's nice-to-weight table: 110 against 1024).
Medians over runs; the ratio is each condition's e2e p99 to the quiet platform's in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.tick_to_order import LOADS, pct, traded, trading  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
UPDATE_UNIT = ROOT / "deploy" / "systemd" / "scalper_update.service"
# What a backup or a build does to a core: compress, without end (random bytes: no shortcut for gzip).
HOG = "import gzip, os\ndata = os.urandom(1 << 20)\nwhile True:\n    gzip.compress(data, 6)\n"


def unit_nice(unit: Path) -> int:
    """The Nice= a unit gives its processes."""
    for line in unit.read_text().splitlines():
        if line.startswith("Nice="):
            return int(line.removeprefix("Nice="))
    raise SystemExit(f"{unit}: no Nice= line")


def e2e(load: str, *, seconds: float, hogs: int, nice: int | None) -> list[float]:
    """The platform's e2e latencies (ms) at `load`, with `hogs` CPU-bound processes at `nice` running
    through the measured window (None: no background)."""
    with trading(load) as (p, _):
        procs = [] if nice is None else [
            subprocess.Popen(["nice", "-n", str(nice), sys.executable, "-c", HOG]) for _ in range(hogs)]
        try:
            time.sleep(seconds)
        finally:
            for proc in procs:
                proc.kill()
                proc.wait()
        path, _ = traded(p, seconds=seconds)
    return path["e2e"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--hogs", type=int, default=2, help="CPU-bound background processes (default: the 2 cores)")
    ap.add_argument("--load", default="realistic", choices=sorted(LOADS))
    args = ap.parse_args()
    niced = unit_nice(UPDATE_UNIT)
    conditions = {"quiet": None, "background, nice 0": 0, f"background, nice {niced}": niced}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in conditions}
    for n in range(args.runs):
        names = list(conditions)
        for name in names[n % len(names):] + names[:n % len(names)]:
            xs = e2e(args.load, seconds=args.seconds, hogs=args.hogs, nice=conditions[name])
            runs[name].append({"p50": pct(xs, 50), "p99": pct(xs, 99)})
            print(f"run {n + 1}/{args.runs} {name} done", file=sys.stderr, flush=True)
    quiet_p99 = [r["p99"] for r in runs["quiet"]]
    print(f"\n{args.load}, {args.hogs} hogs, medians of {args.runs} runs (e2e, ms)")
    print(f"{'condition':<24}{'p50':>8}{'p99':>8}{'p99 / quiet':>13}")
    for name, rs in runs.items():
        ratio = statistics.median(r["p99"] / q for r, q in zip(rs, quiet_p99, strict=True))
        print(f"{name:<24}{statistics.median(r['p50'] for r in rs):>8.2f}"
              f"{statistics.median(r['p99'] for r in rs):>8.2f}{ratio:>12.2f}x")


if __name__ == "__main__":
    main()
