"""The audit log: every login, logout and operator action, one JSON line each in DATA_DIR/audit.jsonl."""

from __future__ import annotations

import json
import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

from common.schemas import now_ns

log = logging.getLogger(__name__)
AUDIT_FILE = "audit.jsonl"
MAX_BYTES = 10 * 1024 * 1024  # rotated at 10 MiB, five files kept
BACKUPS = 5


def rotating_jsonl(path: Path) -> logging.Logger:
    """A private logger that writes bare lines to `path`, rotated by size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger(f"scalper.jsonl.{path}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    if not logger.handlers:
        handler = RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    return logger


class Audit:
    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / AUDIT_FILE
        self._out = rotating_jsonl(self.path)

    def record(self, *, user: str, action: str, client: str | None, outcome: str, detail: str = "") -> None:
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
