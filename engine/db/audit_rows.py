"""The append-only audit trail: inserts and reads, never updates or deletes."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from engine import observe

from .tables import audit


def append(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(audit.insert(), rows)
        observe.note_audit(conn, rows)


def for_incident(conn: Connection, incident_id: str, *, after_id: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
    query = (select(audit).where(audit.c.incident_id == incident_id, audit.c.id > after_id)
             .order_by(audit.c.id).limit(limit))
    return [dict(r) for r in conn.execute(query).mappings()]


def page(conn: Connection, *, procedure: str | None, since: datetime | None, after_id: int,
         limit: int, test: bool | None = False) -> list[dict[str, Any]]:
    query = select(audit).where(audit.c.id > after_id)
    if test is not None:
        query = query.where(audit.c.test == test)
    if procedure:
        query = query.where(audit.c.procedure_key == procedure)
    if since is not None:
        query = query.where(audit.c.at >= since)
    return [dict(r) for r in conn.execute(query.order_by(audit.c.id).limit(limit)).mappings()]
