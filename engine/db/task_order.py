"""The orders a task queue pages in (oldest, highest priority, soonest due or follow-up), as keyset cursors.

Each order ends with (created_at, id), so a page boundary is exact. Tasks without a due or follow-up date
sort last: the column is compared as COALESCE(column, 9999-01-01), on SQLite and PostgreSQL alike.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, literal, or_

from .tables import UTCDateTime, tasks

ORDERS = ("created", "priority", "due", "follow_up")
_LAST = datetime(9999, 1, 1, tzinfo=UTC)


def _keys(order: str) -> list[tuple[Any, bool]]:
    """(expression, descending) pairs of an order."""
    tail = [(tasks.c.created_at, False), (tasks.c.id, False)]
    if order == "priority":
        return [(tasks.c.priority, True), *tail]
    if order in ("due", "follow_up"):
        column = tasks.c.due_at if order == "due" else tasks.c.follow_up_at
        return [(func.coalesce(column, literal(_LAST, UTCDateTime)), False), *tail]
    return tail


def order_by(order: str) -> list[Any]:
    return [expr.desc() if desc else expr.asc() for expr, desc in _keys(order)]


def position(order: str, row: dict[str, Any]) -> list[Any]:
    """The cursor values of the last row of a page (JSON: dates as ISO strings)."""
    values: list[Any] = []
    if order == "priority":
        values.append(row["priority"])
    elif order in ("due", "follow_up"):
        values.append((row["due_at" if order == "due" else "follow_up_at"] or _LAST).isoformat())
    return [*values, row["created_at"].isoformat(), row["id"]]


def after(order: str, values: list[Any]) -> Any:
    """Rows strictly after `values` in `order`."""
    keys = _keys(order)
    if len(values) != len(keys):
        raise ValueError("the cursor is for another order")
    decoded = [v if i == len(keys) - 1 or (order == "priority" and i == 0) else datetime.fromisoformat(v)
               for i, v in enumerate(values)]
    clauses = []
    for i, (expr, desc) in enumerate(keys):
        equal = [keys[j][0] == decoded[j] for j in range(i)]
        clauses.append(and_(*equal, expr < decoded[i] if desc else expr > decoded[i]))
    return or_(*clauses)
