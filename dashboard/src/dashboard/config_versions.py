"""Config versions: each distinct (masked) configuration seen at start or reload, with its diff.

Kept in DATA_DIR/config_versions.jsonl. Values are the masked public view, so a secret never lands
on disk here (and a changed secret shows as unchanged).
"""

from __future__ import annotations

import json
from pathlib import Path

from common.schemas import now_ns

VERSIONS_FILE = "config_versions.jsonl"
SHOWN = 20


class ConfigVersions:
    """The versions file under DATA_DIR: append a new view, list versions with their diffs."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / VERSIONS_FILE

    def _all(self) -> list[dict]:
        """Every recorded version, oldest first; a line that does not parse is skipped."""
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def record(self, view: dict[str, str], *, by: str) -> bool:
        """Append `view` when it differs from the newest version; True when it did."""
        versions = self._all()
        if versions and versions[-1]["values"] == view:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        entry = {"version": len(versions) + 1, "ts_ns": now_ns(), "by": by, "values": view}
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        return True

    def listing(self) -> list[dict]:
        """Newest first, each with its changes against the version before: [key, old, new]."""
        versions = self._all()
        out = []
        for i, v in enumerate(versions):
            before = versions[i - 1]["values"] if i else {}
            keys = sorted(set(before) | set(v["values"]))
            changes = (
                [
                    [k, before.get(k, ""), v["values"].get(k, "")]
                    for k in keys
                    if before.get(k) != v["values"].get(k)
                ]
                if i
                else []
            )
            out.append({"version": v["version"], "ts_ns": v["ts_ns"], "by": v["by"], "changes": changes})
        return out[::-1][:SHOWN]
