"""The audit log: every login, logout and operator action, one JSON line each in DATA_DIR/audit.jsonl."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from common.schemas import now_ns

from dashboard.rotating_jsonl import rotating_jsonl

log = logging.getLogger(__name__)
AUDIT_FILE = "audit.jsonl"


class Audit:
    """Appends to DATA_DIR/audit.jsonl and logs the same entry."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / AUDIT_FILE
        self._out = rotating_jsonl(self.path)

    def record(self, *, user: str, action: str, client: str | None, outcome: str, detail: str = "") -> None:
        """One entry: who did what from where, and how it ended (ok, refused, ...)."""
        entry = {
            "ts_ns": now_ns(),
            "user": user,
            "action": action,
            "client": client or "",
            "outcome": outcome,
            "detail": detail,
        }
        self._out.info(json.dumps(entry))
        log.info("audit", extra={"ctx": entry})
