"""Reconnect backoff: a tiny pure policy (equal jitter, capped), as redis-py's backoff.py."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Seconds to wait after `failures` consecutive failures: half fixed, half random, capped."""

    base_s: float = 0.5
    cap_s: float = 30.0
    rng: random.Random = field(default_factory=random.Random)

    def compute(self, failures: int) -> float:
        ceiling = min(self.cap_s, self.base_s * 2 ** max(0, failures - 1))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)
