"""The long kill -9 soak of the execution service: the suite's soak test with many more kills.

    uv run python bench/kill_soak.py [--kills 200] [--seed 7]

Runs tests/execution_service/test_kill_soak.py (a real simulator, real Redis, the service killed with
-9 at seeded random moments during a stream of intents) with SCALPER_SOAK_KILLS and SCALPER_SOAK_SEED.
After every restart it checks 0 duplicate orders, 0 ghost orders and 0 positions without TP/SL; at the
end every intent is filled, rejected with a reason, or cancelled. Prints the kills per minute.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    env = {**os.environ, "SCALPER_SOAK_KILLS": str(args.kills), "SCALPER_SOAK_SEED": str(args.seed)}
    t0 = time.monotonic()
    code = subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "timeout=0",
                            "tests/execution_service/test_kill_soak.py"], cwd=ROOT, env=env)
    minutes = (time.monotonic() - t0) / 60
    print(f"kill soak: {args.kills} kills, seed {args.seed}, {'passed' if code == 0 else 'FAILED'} "
          f"in {minutes:.1f} min ({args.kills / minutes:.0f} kills/min)")
    raise SystemExit(code)


if __name__ == "__main__":
    main()
