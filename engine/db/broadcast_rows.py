"""Signal broadcasts on their way, with the cursor that lets an interrupted one resume."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from . import wait_rows
from .tables import signal_broadcasts


def queue(conn: Connection, name: str, variables: dict[str, Any], *, actor: str | None, at: datetime,
          origin_incident_id: str | None = None) -> dict[str, Any]:
    """A pending broadcast, in the caller's transaction; it will reach the waits that exist now."""
    row = {"id": str(uuid.uuid4()), "name": name, "variables": variables, "actor": actor,
           "origin_incident_id": origin_incident_id, "status": "pending", "last_wait_id": 0,
           "until_wait_id": wait_rows.newest_id(conn), "reached": 0, "started": 0, "batches": 0,
           "created_at": at}
    conn.execute(signal_broadcasts.insert().values(**row))
    return row


def get(conn: Connection, broadcast_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(signal_broadcasts).where(signal_broadcasts.c.id == broadcast_id)).mappings().first()
    return dict(row) if row else None


def claim(conn: Connection, broadcast_id: str) -> dict[str, Any] | None:
    """The broadcast, locked for this batch; None when another worker holds it (PostgreSQL SKIP LOCKED)."""
    query = select(signal_broadcasts).where(signal_broadcasts.c.id == broadcast_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def advance(conn: Connection, broadcast_id: str, *, last_wait_id: int | None, reached: int, done: bool,
            at: datetime) -> None:
    values: dict[str, Any] = {"reached": signal_broadcasts.c.reached + reached,
                              "batches": signal_broadcasts.c.batches + 1,
                              "status": "done" if done else "running"}
    if last_wait_id is not None:
        values["last_wait_id"] = last_wait_id
    if done:
        values["finished_at"] = at
    conn.execute(signal_broadcasts.update().where(signal_broadcasts.c.id == broadcast_id).values(**values))


def add_started(conn: Connection, broadcast_id: str, started: int) -> None:
    conn.execute(signal_broadcasts.update().where(signal_broadcasts.c.id == broadcast_id)
                 .values(started=signal_broadcasts.c.started + started))


def unfinished(conn: Connection, *, limit: int) -> list[str]:
    query = (select(signal_broadcasts.c.id).where(signal_broadcasts.c.status.in_(("pending", "running")))
             .order_by(signal_broadcasts.c.created_at, signal_broadcasts.c.id).limit(limit))
    return [str(r) for r in conn.execute(query).scalars()]
