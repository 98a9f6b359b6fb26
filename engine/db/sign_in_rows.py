"""Counters of failed sign-ins (engine/identity/backoff.py decides what they mean)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .tables import sign_in_failures as sif


def get(conn: Connection, key: str) -> dict[str, Any] | None:
    row = conn.execute(select(sif).where(sif.c.key == key)).mappings().first()
    return dict(row) if row else None


def add_failure(conn: Connection, key: str, at: datetime) -> int:
    """One more failure, counted atomically (concurrent failures of one key are all counted); the count."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = insert(sif).values(key=key, failures=1, last_failed_at=at, blocked_until=None)
    statement = statement.on_conflict_do_update(
        index_elements=[sif.c.key], set_={"failures": sif.c.failures + 1, "last_failed_at": at})
    conn.execute(statement)
    return int(conn.execute(select(sif.c.failures).where(sif.c.key == key)).scalar_one())


def block(conn: Connection, key: str, until: datetime) -> None:
    conn.execute(update(sif).where(sif.c.key == key).values(blocked_until=until))


def forget(conn: Connection, key: str) -> None:
    conn.execute(delete(sif).where(sif.c.key == key))


def prune(conn: Connection, *, older_than: datetime, now: datetime, limit: int) -> int:
    """Forget at most `limit` keys whose last failure is older than `older_than` and that are not blocked."""
    stale = (select(sif.c.key).where(sif.c.last_failed_at < older_than)
             .where((sif.c.blocked_until.is_(None)) | (sif.c.blocked_until <= now)).limit(limit))
    keys = list(conn.execute(stale).scalars())
    if keys:
        conn.execute(delete(sif).where(sif.c.key.in_(keys)))
    return len(keys)
