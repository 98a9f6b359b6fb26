"""How the pages write times and durations for people (Jinja filters)."""
from __future__ import annotations

from datetime import datetime
from typing import Any


def age(seconds: int | float | None) -> str:
    """'45s', '12m', '3h 5m', '2d 4h'."""
    if seconds is None:
        return "n/a"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def when(value: datetime | str | None) -> str:
    """A UTC timestamp as '2026-12-01 14:05 UTC'."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


FILTERS: dict[str, Any] = {"age": age, "when": when, "iso": iso}
