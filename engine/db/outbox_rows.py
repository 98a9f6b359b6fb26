"""The outbox and its delivery attempts: side effects written with a transition, claimed and settled by workers."""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from . import pipeline
from .prebuilt import Prebuilt
from .tables import delivery_attempts, outbox


def insert(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(outbox.insert().values(**row))


_QUEUE = {name: dialect.insert(outbox).on_conflict_do_nothing(index_elements=[outbox.c.task_id])
          for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))}


def queue_once(conn: Connection, row: dict[str, Any]) -> None:
    """Insert a service task's outbox row unless the task has one already (one row per task, ever: a
    'wait' task stays started across transitions). No read: the unique task id decides."""
    pipeline.write(conn, _QUEUE[conn.dialect.name], row)


def queued_tasks(conn: Connection, task_ids: Collection[str]) -> set[str]:
    """Which of these service task ids already have an outbox row (queued by an earlier transition)."""
    if not task_ids:
        return set()
    return set(conn.execute(select(outbox.c.task_id).where(outbox.c.task_id.in_(list(task_ids)))).scalars())


def _due(now: datetime) -> Any:
    return or_(and_(outbox.c.status == "pending", outbox.c.next_attempt_at <= now),
               and_(outbox.c.status == "delivering", outbox.c.claimed_until <= now))


def due_ids(conn: Connection, now: datetime, *, limit: int) -> list[str]:
    """Ids of rows due for an attempt, without locking them (for fanning work out to a queue)."""
    query = select(outbox.c.id).where(_due(now)).order_by(outbox.c.next_attempt_at).limit(limit)
    return list(conn.execute(query).scalars())


def claimable(conn: Connection, now: datetime, *, limit: int, only: str | None = None) -> list[dict[str, Any]]:
    """Rows due for an attempt, locked: pending and due, or being delivered by a worker whose lease ran out
    (it died or hung). SKIP LOCKED on PostgreSQL so concurrent workers never claim the same row."""
    query = select(outbox).where(_due(now)).order_by(outbox.c.next_attempt_at).limit(limit)
    if only is not None:
        query = query.where(outbox.c.id == only)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [dict(r) for r in conn.execute(query).mappings()]


def claim(conn: Connection, row: dict[str, Any], now: datetime, lease: float, worker: str) -> int:
    """Take the row for one attempt until `now + lease`; returns the attempt number (the claim token)."""
    number = int(row["attempts"]) + 1
    if row["status"] == "delivering":  # the previous attempt never reported back
        conn.execute(delivery_attempts.update().where(
            delivery_attempts.c.outbox_id == row["id"], delivery_attempts.c.number == row["attempts"],
            delivery_attempts.c.outcome.is_(None),
        ).values(outcome="lost", finished_at=now,
                 error="the worker stopped before recording a result; the lease expired"))
    pipeline.write(conn, _UPDATE, {"b_id": row["id"], "status": "delivering", "attempts": number,
                                   "claimed_until": now + timedelta(seconds=lease)})
    pipeline.write(conn, _ATTEMPT, {"outbox_id": row["id"], "number": number, "started_at": now, "worker": worker})
    return number


# Hot statements built once (straight through psycopg on PostgreSQL: engine.db.prebuilt)
_UPDATE = Prebuilt(outbox.update().where(outbox.c.id == bindparam("b_id")))
_ATTEMPT = Prebuilt(delivery_attempts.insert().inline())
_LOCK = Prebuilt(select(outbox).where(outbox.c.id == bindparam("b_id")))
_LOCK_PG = Prebuilt(_LOCK.statement.with_for_update())
_FINISH = Prebuilt(delivery_attempts.update().where(delivery_attempts.c.outbox_id == bindparam("b_id"),
                                                    delivery_attempts.c.number == bindparam("b_number")))


def lock(conn: Connection, outbox_id: str) -> dict[str, Any] | None:
    found = pipeline.read(conn, _LOCK_PG if conn.dialect.name == "postgresql" else _LOCK, {"b_id": outbox_id})
    return found[0] if found else None


def finish_attempt(conn: Connection, outbox_id: str, number: int, *, outcome: str, at: datetime,
                   http_status: int | None, error: str | None) -> None:
    pipeline.write(conn, _FINISH, {"b_id": outbox_id, "b_number": number, "outcome": outcome, "finished_at": at,
                                   "http_status": http_status, "error": error})


def update(conn: Connection, outbox_id: str, values: dict[str, Any]) -> None:
    pipeline.write(conn, _UPDATE, {"b_id": outbox_id, **values})


def for_incident(conn: Connection, incident_id: str) -> list[dict[str, Any]]:
    query = select(outbox).where(outbox.c.incident_id == incident_id).order_by(outbox.c.created_at, outbox.c.id)
    return [dict(r) for r in conn.execute(query).mappings()]


def attempts_for(conn: Connection, outbox_ids: Collection[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {i: [] for i in outbox_ids}
    if not outbox_ids:
        return found
    query = (select(delivery_attempts).where(delivery_attempts.c.outbox_id.in_(list(outbox_ids)))
             .order_by(delivery_attempts.c.outbox_id, delivery_attempts.c.number))
    for row in conn.execute(query).mappings():
        found[row["outbox_id"]].append(dict(row))
    return found
