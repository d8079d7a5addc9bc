"""dashboard.scenarios.sandbox: the replay's launcher. What it becomes (exec) keeps the limits it set, among
them an OOM score that makes the replay, not the dashboard beside it in the unit's cgroup, the process the
kernel kills when the unit's MemoryMax= is reached."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dashboard.scenarios.sandbox import SANDBOX_FILE

pytestmark = pytest.mark.unit


def test_the_command_runs_with_the_limits_and_the_oom_score(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.scenarios.sandbox", "--out", str(tmp_path), "--as-mb", "1536",
         "--cpu-s", "30", "--nice", "1", "--oom-score-adj", "1000", "--",
         "/bin/sh", "-c", "cat /proc/self/oom_score_adj; ulimit -v; ulimit -t"],
        capture_output=True, text=True, timeout=30, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1000", str(1536 * 1024), "30"]
    report = json.loads((tmp_path / SANDBOX_FILE).read_text())
    assert report["outcome"] == {"RLIMIT_AS": "applied", "RLIMIT_CPU": "applied", "nice": "applied",
                                 "oom_score_adj": "applied"}
