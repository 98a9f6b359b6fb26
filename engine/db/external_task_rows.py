"""The external_tasks table: pull-based service tasks, their locks (SKIP LOCKED on PostgreSQL) and retries."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from .tables import external_tasks as xt
from .wakeup import announce


def insert(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(xt.insert().values(**row))
    announce(conn, row["topic"])


def existing(conn: Connection, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    return set(conn.execute(select(xt.c.id).where(xt.c.id.in_(ids))).scalars())


def get(conn: Connection, task_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    query = select(xt).where(xt.c.id == task_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def _fetchable(now: datetime) -> Any:
    return and_(xt.c.state == "open", or_(xt.c.available_at.is_(None), xt.c.available_at <= now),
                or_(xt.c.lock_expires_at.is_(None), xt.c.lock_expires_at <= now))


def lockable(conn: Connection, topics: list[str], now: datetime, *, limit: int, by_priority: bool = False,
             newest_first: bool = False, ids: list[str] | None = None, lock: bool = True) -> list[dict[str, Any]]:
    """Fetchable rows of these topics (or of `ids`), locked for this transaction unless `lock` is False;
    rows another fetch holds are skipped."""
    query = select(xt).where(xt.c.topic.in_(topics), _fetchable(now))
    if ids is not None:
        query = query.where(xt.c.id.in_(ids))
    order = [xt.c.priority.desc()] if by_priority else []
    created = xt.c.created_at.desc() if newest_first else xt.c.created_at
    query = query.order_by(*order, created, xt.c.id).limit(limit)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [dict(r) for r in conn.execute(query).mappings()]


def announce_topic(conn: Connection, topic: str) -> None:
    announce(conn, topic)


def next_available(conn: Connection, topics: list[str], now: datetime) -> datetime | None:
    """When the next task of these topics becomes fetchable by itself (a lock or a retry timeout running out)."""
    later = func.coalesce(xt.c.lock_expires_at, xt.c.available_at)
    query = select(func.min(later)).where(xt.c.topic.in_(topics), xt.c.state == "open", later > now)
    found = conn.execute(query).scalar()
    if found is not None and found.tzinfo is None:
        from datetime import UTC

        found = found.replace(tzinfo=UTC)
    return found  # type: ignore[no-any-return]


def update(conn: Connection, task_id: str, values: dict[str, Any], *, announce_topic: str | None = None) -> None:
    conn.execute(xt.update().where(xt.c.id == task_id).values(**values))
    if announce_topic is not None:
        announce(conn, announce_topic)


def end(conn: Connection, task_ids: list[str], state: str, at: datetime) -> None:
    """Close rows whose workflow task ended without a worker (an interrupting event, a cancel)."""
    if task_ids:
        conn.execute(xt.update().where(xt.c.id.in_(task_ids), xt.c.state.in_(("open", "failed")))
                     .values(state=state, ended_at=at, worker_id=None, lock_expires_at=None))


def search(conn: Connection, *, ids: list[str] | None = None, topic: str | None = None,
           worker_id: str | None = None, incident_id: str | None = None, element_id: str | None = None,
           states: list[str] | None = None, locked: bool | None = None, with_retries: bool | None = None,
           now: datetime, offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
    query = select(xt)
    for column, value in ((xt.c.topic, topic), (xt.c.worker_id, worker_id), (xt.c.incident_id, incident_id),
                          (xt.c.element_id, element_id)):
        if value is not None:
            query = query.where(column == value)
    if ids is not None:
        query = query.where(xt.c.id.in_(ids))
    if states is not None:
        query = query.where(xt.c.state.in_(states))
    if locked is True:
        query = query.where(xt.c.lock_expires_at > now)
    elif locked is False:
        query = query.where(or_(xt.c.lock_expires_at.is_(None), xt.c.lock_expires_at <= now))
    if with_retries is True:
        query = query.where(or_(xt.c.retries.is_(None), xt.c.retries > 0))
    elif with_retries is False:
        query = query.where(xt.c.retries == 0)
    query = query.order_by(xt.c.created_at, xt.c.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]
