"""Append-only JSON-lines files rotated by size (the audit log, the alert log): a private logger each."""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

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
