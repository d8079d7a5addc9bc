"""Numbers and times as an operator reads them: prices to the instrument's tick, sizes to its lot, USDT
with a sign, percentages and bps with two decimals, durations with units, times with UTC beside them.

The dashboard has no instrument catalogue (execution keeps it in its own memory), so the tick or lot of
a symbol is the finest step the exchange's own strings for it show ("65000.10" -> 0.01): Bybit prints
prices and sizes on their grid. Every function takes strings or numbers and returns a string; a value
that is missing or not a number comes back as "" (nothing to show), never as a guess.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

NS_PER_S = 1_000_000_000


def dec(value) -> Decimal | None:
    """`value` as a Decimal (floats through their shortest repr), or None when it is not a finite number."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        d = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def step_of(*samples) -> Decimal | None:
    """The finest decimal step the exchange strings in `samples` show: "0.50" and "7.125" -> 0.001."""
    places = [-d.as_tuple().exponent for s in samples if isinstance(s, str) and (d := dec(s)) is not None]
    return Decimal(1).scaleb(-max(0, *places)) if places else None


def on_step(value, step: Decimal | None) -> str:
    """`value` rounded to `step` (half up), printed with exactly the step's decimals; "" when no number.
    Without a step: the value without float noise (at most 8 decimals, trailing zeros dropped)."""
    d = dec(value)
    if d is None:
        return ""
    if step is None:
        return plain(d.quantize(Decimal("1e-8"), rounding=ROUND_HALF_UP))
    places = max(0, -step.as_tuple().exponent)
    return f"{(d / step).to_integral_value(rounding=ROUND_HALF_UP) * step:.{places}f}"


def plain(d: Decimal) -> str:
    """A Decimal without exponent and without trailing zeros ("-0" as "0"): an exact value for programs."""
    text = f"{d:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def price(value, *, tick: Decimal | None) -> str:
    """A price on the instrument's tick: 65000.1 with tick 0.01 -> "65000.10"."""
    return on_step(value, tick)


def size(value, *, lot: Decimal | None) -> str:
    """A size on the instrument's lot: 0.0100000001 with lot 0.001 -> "0.010"."""
    return on_step(value, lot)


def usdt(value) -> str:
    """USDT with a sign and two decimals: "+12.50", "-3.07", "0.00"; "" when no number."""
    d = dec(value)
    if d is None:
        return ""
    d = d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return "0.00" if d == 0 else f"{d:+,.2f}"


def pct(value, *, signed: bool = False) -> str:
    """A percentage with two decimals: "1.25 %" (signed: "+1.25 %")."""
    d = dec(value)
    if d is None:
        return ""
    return f"{d:+.2f} %" if signed and d != 0 else f"{d:.2f} %"


def bps(value) -> str:
    """Basis points with two decimals: "1.53 bps"."""
    d = dec(value)
    return "" if d is None else f"{d:.2f} bps"


def ms(value) -> str:
    """Milliseconds with two decimals: "12.35 ms"."""
    d = dec(value)
    return "" if d is None else f"{d:.2f} ms"


def duration(seconds) -> str:
    """A duration with units, the two largest that matter: "45 s", "3 min 20 s", "2 h 5 min", "3 d 4 h";
    under ten seconds with one decimal ("2.5 s")."""
    d = dec(seconds)
    if d is None:
        return ""
    s = float(d)
    if s < 10:
        return f"{s:.1f} s"
    total = int(s)
    for unit, size_s, sub, sub_s in (("d", 86_400, "h", 3600), ("h", 3600, "min", 60), ("min", 60, "s", 1)):
        if total >= size_s:
            big, rest = divmod(total, size_s)
            return f"{big} {unit} {rest // sub_s} {sub}" if rest // sub_s else f"{big} {unit}"
    return f"{total} s"


def utc(ns) -> str:
    """Nanoseconds since the epoch as "YYYY-MM-DD HH:MM:SS" UTC; "" for none or zero."""
    if not ns:
        return ""
    return datetime.fromtimestamp(int(ns) / NS_PER_S, UTC).strftime("%Y-%m-%d %H:%M:%S")


def iso(ns) -> str:
    """Nanoseconds since the epoch as ISO 8601 UTC to the second, for <time datetime>; "" for none."""
    if not ns:
        return ""
    return datetime.fromtimestamp(int(ns) / NS_PER_S, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign_class(value) -> str:
    """The CSS class that colours a P&L: "pos", "neg" or "" (zero or none)."""
    d = dec(value)
    return "" if d is None or d == 0 else ("pos" if d > 0 else "neg")


# The Jinja filters (responses.py registers them): templates print through these, never raw floats.
FILTERS = {
    "usdt": usdt, "pct": pct, "bps": bps, "ms": ms, "duration": duration, "utc": utc, "iso": iso,
    "sign": sign_class,
}
