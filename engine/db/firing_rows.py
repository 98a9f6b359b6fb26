"""Firings of timer start events: one row each, claimed by one scheduler (SKIP LOCKED), fired once."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select
from sqlalchemy.exc import IntegrityError

from .tables import procedures, start_timer_firings

_OPEN = ("pending", "claimed")


def latest(conn: Connection, procedure_id: str, element_id: str) -> dict[str, Any] | None:
    query = (select(start_timer_firings)
             .where(start_timer_firings.c.procedure_id == procedure_id, start_timer_firings.c.element_id == element_id)
             .order_by(start_timer_firings.c.due_at.desc()).limit(1))
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def count(conn: Connection, procedure_id: str, element_id: str) -> int:
    query = select(func.count()).select_from(start_timer_firings).where(
        start_timer_firings.c.procedure_id == procedure_id, start_timer_firings.c.element_id == element_id)
    return int(conn.execute(query).scalar() or 0)


def insert_pending(conn: Connection, row: dict[str, Any]) -> bool:
    """False when another scheduler wrote the same firing first (procedure, element, due time are unique)."""
    try:
        with conn.begin_nested():
            conn.execute(start_timer_firings.insert().values(**row))
    except IntegrityError:
        return False
    return True


def cancel_inactive(conn: Connection, at: datetime) -> int:
    """Open firings of versions that are no longer active never fire (a retired version starts nothing)."""
    inactive = select(procedures.c.id).where(procedures.c.status != "active")
    result = conn.execute(start_timer_firings.update()
                          .where(start_timer_firings.c.status.in_(_OPEN),
                                 start_timer_firings.c.procedure_id.in_(inactive))
                          .values(status="cancelled", fired_at=at))
    return int(result.rowcount or 0)


def claim_due(conn: Connection, now: datetime, lease_until: datetime) -> dict[str, Any] | None:
    """The oldest due firing of an active version (pending, or claimed by a scheduler whose lease ran out),
    marked claimed until `lease_until`. PostgreSQL: FOR UPDATE SKIP LOCKED, so concurrent schedulers each
    take a different firing."""
    query = (select(start_timer_firings)
             .join(procedures, procedures.c.id == start_timer_firings.c.procedure_id)
             .where(procedures.c.status == "active", start_timer_firings.c.due_at <= now,
                    or_(start_timer_firings.c.status == "pending",
                        (start_timer_firings.c.status == "claimed") & (start_timer_firings.c.claimed_until < now)))
             .order_by(start_timer_firings.c.due_at).limit(1))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(of=start_timer_firings, skip_locked=True)
    row = conn.execute(query).mappings().first()
    if row is None:
        return None
    conn.execute(start_timer_firings.update().where(start_timer_firings.c.id == row["id"])
                 .values(status="claimed", claimed_until=lease_until))
    return dict(row)


def finish(conn: Connection, firing_id: str, *, status: str, at: datetime, incident_id: str | None = None,
           error: str | None = None) -> None:
    conn.execute(start_timer_firings.update().where(start_timer_firings.c.id == firing_id)
                 .values(status=status, fired_at=at, incident_id=incident_id, error=error, claimed_until=None))


def for_procedure(conn: Connection, procedure_id: str) -> list[dict[str, Any]]:
    query = (select(start_timer_firings).where(start_timer_firings.c.procedure_id == procedure_id)
             .order_by(start_timer_firings.c.due_at))
    return [dict(r) for r in conn.execute(query).mappings()]
