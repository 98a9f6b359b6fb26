"""The timers table: every deadline an incident waits on, so a scheduler finds due work without loading state."""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY

from . import pipeline
from .prebuilt import Prebuilt
from .tables import incidents, timers


def pending_for(conn: Connection, incident_id: str) -> dict[str, dict[str, Any]]:
    """Pending timer rows of one incident, by timer task id."""
    return {row["task_id"]: row for row in pipeline.read(conn, _PENDING, {"b_incident": incident_id})}


_PENDING = Prebuilt(select(timers).where(timers.c.incident_id == bindparam("b_incident"), timers.c.status == "pending"))
_INSERT = Prebuilt(timers.insert())
# PostgreSQL: any number of ids in one fixed (so prepared) statement
_SET_STATUS_PG = Prebuilt(timers.update().where(timers.c.id == any_(bindparam("b_ids", type_=ARRAY(String))),
                                                timers.c.status == "pending"))


def for_incident(conn: Connection, incident_id: str) -> list[dict[str, Any]]:
    query = select(timers).where(timers.c.incident_id == incident_id).order_by(timers.c.created_at, timers.c.id)
    return [dict(r) for r in conn.execute(query).mappings()]


def insert_many(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:  # one row is a plain INSERT (an executemany goes through SQLAlchemy's multi-row rewriting)
        pipeline.write(conn, _INSERT, rows[0] if len(rows) == 1 else rows)


def set_status(conn: Connection, timer_ids: Collection[str], status: str, at: datetime) -> None:
    if not timer_ids:
        return
    column = "fired_at" if status == "fired" else "cancelled_at"
    if conn.dialect.name == "postgresql":
        pipeline.write(conn, _SET_STATUS_PG, {"b_ids": list(timer_ids), "status": status, column: at})
        return
    pipeline.write(conn, timers.update().where(timers.c.id.in_(list(timer_ids)), timers.c.status == "pending")
                   .values(status=status, **{column: at}))


def reschedule(conn: Connection, timer_id: str, due_at: datetime) -> None:
    pipeline.write(conn, timers.update().where(timers.c.id == timer_id).values(due_at=due_at))


def claim_due_incident(conn: Connection, now: datetime, *, exclude: Collection[str] = ()) -> str | None:
    """The running incident with the oldest due timer, locked for this transaction.

    PostgreSQL: `FOR UPDATE OF incidents SKIP LOCKED`, so concurrent ticks (two beats, two workers) each
    take a different incident and an incident busy with a request is left for the next tick. Every writer
    of timer rows holds the incident lock, so owning the incident row owns its timers. SQLite: the caller's
    transaction is BEGIN IMMEDIATE, which already excludes every other writer of the file.
    """
    query = (select(timers.c.incident_id)
             .join(incidents, incidents.c.id == timers.c.incident_id)
             .where(timers.c.status == "pending", timers.c.due_at <= now, incidents.c.status == "running")
             .order_by(timers.c.due_at)
             .limit(1))
    if exclude:
        query = query.where(timers.c.incident_id.not_in(list(exclude)))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(of=incidents, skip_locked=True)
    return conn.execute(query).scalar()

