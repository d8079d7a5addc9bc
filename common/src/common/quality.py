"""Execution-quality arithmetic shared by the execution service (which writes the sums) and the dashboard
(which shows them): the figures people read, and the time buckets the sums are kept in.

Defined once here because services never import each other, and two copies of one derivation drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping

from common import constants as c

# figure -> (sum over the period, the sum it is divided by)
RATIOS = {
    "fill_ratio": ("fill_qty", "intent_qty"),
    "maker_share": ("maker_qty", "fill_qty"),
    "slippage_bps": ("slippage_bps_qty", "matched_qty"),  # qty-weighted, adverse > 0
    "ttff_s_mean": ("ttff_s", "first_fills"),
    "ack_s_mean": ("ack_s", "orders"),
}


def figures(raw: Mapping[bytes | str, bytes | str | float]) -> dict[str, float | None]:
    """A quality hash (as HGETALL returns it) as floats, plus every ratio of RATIOS: None where its
    denominator is zero, as a ratio of nothing is unknown, not 0."""
    sums = {(k.decode() if isinstance(k, bytes) else k): float(v) for k, v in raw.items()}
    ratios = {name: sums.get(num, 0.0) / sums[den] if sums.get(den) else None
              for name, (num, den) in RATIOS.items()}
    return sums | ratios


def bucket_start(t_s: float) -> int:
    """The start (epoch seconds) of the bucket that holds time t_s."""
    return int(t_s // c.EXEC_QUALITY_BUCKET_S) * c.EXEC_QUALITY_BUCKET_S


def bucket_starts(now_s: float, span_s: int) -> list[int]:
    """The starts of the span_s // EXEC_QUALITY_BUCKET_S buckets up to the one holding now_s, oldest first."""
    last = bucket_start(now_s)
    return list(range(last - span_s + c.EXEC_QUALITY_BUCKET_S, last + 1, c.EXEC_QUALITY_BUCKET_S))
