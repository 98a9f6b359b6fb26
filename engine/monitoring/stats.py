"""One percentile definition for every figure we publish, so SQLite and PostgreSQL agree exactly.

`percentile` is PostgreSQL's `percentile_cont` (linear interpolation between the closest ranks), computed
in Python over durations the database has already reduced to seconds.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

STATISTICS = ("p50", "p90", "p95", "mean")
_DIGITS = 3


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The `fraction` (0..1) percentile of `values` by linear interpolation; None when there are none."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be within 0..1, not {fraction}")
    ordered = sorted(values)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    value = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return round(value, _DIGITS)


def summary(values: Iterable[float | None]) -> dict[str, Any]:
    """count, p50, p90, p95, mean and max of a distribution of seconds (None values are skipped)."""
    kept = [float(v) for v in values if v is not None]
    if not kept:
        return {"count": 0, "p50": None, "p90": None, "p95": None, "mean": None, "max": None}
    return {"count": len(kept), "p50": percentile(kept, 0.5), "p90": percentile(kept, 0.9),
            "p95": percentile(kept, 0.95), "mean": round(sum(kept) / len(kept), _DIGITS),
            "max": round(max(kept), _DIGITS)}


def share(part: int, whole: int) -> float | None:
    """part / whole rounded to four places; None when `whole` is zero."""
    return round(part / whole, 4) if whole else None


def human(seconds: float | None) -> str:
    """A duration for people: `2d 3h`, `1h 5m`, `4m 10s`, `12s`, under a second in milliseconds (`420 ms`,
    `<1 ms`), `n/a` for None."""
    if seconds is None:
        return "n/a"
    if seconds < 0.9995:
        millis = seconds * 1000
        return "0 ms" if millis <= 0 else "<1 ms" if millis < 0.5 else f"{round(millis)} ms"
    total = int(round(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    shown = [f"{n}{unit}" for n, unit in parts if n][:2]
    return " ".join(shown) or "0s"
