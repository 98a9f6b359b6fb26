"""Reading and writing strategies, objectives and criteria (one generic shape for the three tables)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, or_, select

from .tables import criteria, objectives, procedure_objectives, strategies

TABLES: dict[str, Table] = {"strategy": strategies, "objective": objectives, "criterion": criteria}


def insert(conn: Connection, kind: str, row: dict[str, Any]) -> None:
    conn.execute(TABLES[kind].insert().values(**row))


def get(conn: Connection, kind: str, row_id: str) -> dict[str, Any] | None:
    table = TABLES[kind]
    row = conn.execute(select(table).where(table.c.id == row_id)).mappings().first()
    return dict(row) if row else None


def page(conn: Connection, kind: str, *, filters: dict[str, Any], limit: int,
         after: tuple[datetime, str] | None) -> list[dict[str, Any]]:
    """Oldest first, keyset-paged by (created_at, id); `filters` are column = value."""
    table = TABLES[kind]
    query = select(table)
    for column, value in filters.items():
        if value is not None:
            query = query.where(table.c[column] == value)
    if after is not None:
        created_at, last_id = after
        query = query.where(or_(table.c.created_at > created_at,
                                and_(table.c.created_at == created_at, table.c.id > last_id)))
    query = query.order_by(table.c.created_at, table.c.id).limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]


def existing_objectives(conn: Connection, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    return set(conn.execute(select(objectives.c.id).where(objectives.c.id.in_(ids))).scalars())


def objectives_of(conn: Connection, procedure_id: str) -> list[dict[str, Any]]:
    """The objectives a procedure version serves, each with its strategy and criteria."""
    query = (select(objectives, strategies.c.name.label("strategy_name"))
             .join(procedure_objectives, procedure_objectives.c.objective_id == objectives.c.id)
             .join(strategies, strategies.c.id == objectives.c.strategy_id)
             .where(procedure_objectives.c.procedure_id == procedure_id)
             .order_by(objectives.c.created_at, objectives.c.id))
    found = [dict(r) for r in conn.execute(query).mappings()]
    if found:
        rows = conn.execute(select(criteria).where(criteria.c.objective_id.in_([o["id"] for o in found]))
                            .order_by(criteria.c.created_at, criteria.c.id)).mappings()
        by_objective: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_objective.setdefault(row["objective_id"], []).append(dict(row))
        for objective in found:
            objective["criteria"] = by_objective.get(objective["id"], [])
    return found


def set_objectives(conn: Connection, procedure_id: str, objective_ids: list[str]) -> None:
    conn.execute(procedure_objectives.delete().where(procedure_objectives.c.procedure_id == procedure_id))
    if objective_ids:
        conn.execute(procedure_objectives.insert(),
                     [{"procedure_id": procedure_id, "objective_id": oid} for oid in dict.fromkeys(objective_ids)])
