"""The tasks table: open human tasks copied out of the workflow so queues list without loading state."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from .tables import tasks


def insert_many(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(tasks.insert(), rows)


def get(conn: Connection, task_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(tasks).where(tasks.c.id == task_id)).mappings().first()
    return dict(row) if row else None


def end(conn: Connection, task_id: str, state: str, at: datetime, actor: str | None) -> None:
    conn.execute(tasks.update().where(tasks.c.id == task_id, tasks.c.state == "ready")
                 .values(state=state, ended_at=at, ended_by=actor))


def end_all_open(conn: Connection, incident_id: str, state: str, at: datetime, actor: str | None) -> None:
    conn.execute(tasks.update().where(tasks.c.incident_id == incident_id, tasks.c.state == "ready")
                 .values(state=state, ended_at=at, ended_by=actor))


def open_for(conn: Connection, incident_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {i: [] for i in incident_ids}
    if not incident_ids:
        return found
    query = (select(tasks).where(tasks.c.incident_id.in_(incident_ids), tasks.c.state == "ready")
             .order_by(tasks.c.created_at, tasks.c.id))
    for row in conn.execute(query).mappings():
        found[row["incident_id"]].append(dict(row))
    return found


def page(conn: Connection, *, state: str | None, lane: str | None, incident: str | None,
         limit: int, after: tuple[datetime, str] | None) -> list[dict[str, Any]]:
    query = select(tasks)
    if state:
        query = query.where(tasks.c.state == state)
    if lane:
        query = query.where(tasks.c.lane == lane)
    if incident:
        query = query.where(tasks.c.incident_id == incident)
    if after is not None:
        created_at, last_id = after
        query = query.where(or_(tasks.c.created_at > created_at,
                                and_(tasks.c.created_at == created_at, tasks.c.id > last_id)))
    query = query.order_by(tasks.c.created_at, tasks.c.id).limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]
