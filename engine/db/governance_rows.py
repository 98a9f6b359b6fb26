"""Procedure lifecycle rows: status changes, the append-only event log, declarations, the active version."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from .tables import procedure_declarations, procedure_events, procedures

_COLUMNS = [c for c in procedures.c if c.name != "bpmn"]


def lock_key(conn: Connection, key: str) -> list[dict[str, Any]]:
    """Every version of `key`, locked until the transaction ends (PostgreSQL), so transitions serialize."""
    query = select(*_COLUMNS).where(procedures.c.key == key).order_by(procedures.c.version)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return [dict(r) for r in conn.execute(query).mappings()]


def active(conn: Connection, key: str) -> dict[str, Any] | None:
    """The active version of a procedure, if one is active."""
    query = select(*_COLUMNS).where(procedures.c.key == key, procedures.c.status == "active")
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def set_status(conn: Connection, procedure_id: str, status: str) -> None:
    conn.execute(procedures.update().where(procedures.c.id == procedure_id).values(status=status))


def append_event(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(procedure_events.insert().values(**row))


def events(conn: Connection, procedure_id: str) -> list[dict[str, Any]]:
    query = select(procedure_events).where(procedure_events.c.procedure_id == procedure_id) \
        .order_by(procedure_events.c.id)
    return [dict(r) for r in conn.execute(query).mappings()]


def last_event(conn: Connection, procedure_id: str, action: str) -> dict[str, Any] | None:
    query = (select(procedure_events)
             .where(procedure_events.c.procedure_id == procedure_id, procedure_events.c.action == action)
             .order_by(procedure_events.c.id.desc()).limit(1))
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def declaration(conn: Connection, procedure_id: str) -> dict[str, Any] | None:
    query = select(procedure_declarations).where(procedure_declarations.c.procedure_id == procedure_id)
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def save_declaration(conn: Connection, row: dict[str, Any]) -> None:
    table = procedure_declarations
    if declaration(conn, row["procedure_id"]) is None:
        conn.execute(table.insert().values(**row))
    else:
        conn.execute(table.update().where(table.c.procedure_id == row["procedure_id"]).values(**row))
