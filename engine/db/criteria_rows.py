"""Reading agreed criteria (governance's `criteria` table) for monitoring; an absent table means none yet."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, MetaData, String, Table, cast, inspect, select

_ALIASES = {"procedure_key": ("procedure_key", "procedure"), "objective_id": ("objective_id", "objective")}


def _normalise(row: dict[str, Any]) -> dict[str, Any]:
    """The criterion dict evaluation expects, whatever the governance columns are called exactly."""
    for name, candidates in _ALIASES.items():
        row[name] = next((row[c] for c in candidates if row.get(c) is not None), None)
    row["filter"] = row.get("filter") or {}
    return row


def listing(conn: Connection, *, objective: str | None = None, procedure: str | None = None
            ) -> list[dict[str, Any]]:
    """Criteria of an objective (or all), optionally only those of one procedure key; [] without the table."""
    if not inspect(conn).has_table("criteria"):
        return []
    table = Table("criteria", MetaData(), autoload_with=conn)
    query = select(table)
    if objective is not None:
        column = next((table.c[c] for c in _ALIASES["objective_id"] if c in table.c), None)
        if column is None:
            return []
        query = query.where(cast(column, String) == str(objective))  # integer or UUID ids alike
    if "id" in table.c:
        query = query.order_by(table.c.id)
    found = [_normalise(dict(r)) for r in conn.execute(query).mappings()]
    return [c for c in found if procedure is None or c["procedure_key"] == procedure]
