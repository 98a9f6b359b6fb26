"""Reading agreed criteria (governance's `criteria` table) for monitoring."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from .tables import criteria


def listing(conn: Connection, *, objective: str | None = None, procedure: str | None = None
            ) -> list[dict[str, Any]]:
    """Criteria of an objective (or all), optionally only those of one procedure key, oldest first."""
    query = select(criteria)
    if objective is not None:
        query = query.where(criteria.c.objective_id == str(objective))
    if procedure is not None:
        query = query.where(criteria.c.procedure_key == procedure)
    rows = [dict(r) for r in conn.execute(query.order_by(criteria.c.created_at, criteria.c.id)).mappings()]
    for row in rows:
        row["filter"] = row.get("filter") or {}
    return rows
