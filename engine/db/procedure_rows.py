"""Reading and writing procedure versions."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from .tables import procedures

_LIST_COLUMNS = [c for c in procedures.c if c.name != "bpmn"]


def insert(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(procedures.insert().values(**row))


def by_sha(conn: Connection, key: str, sha256: str) -> dict[str, Any] | None:
    found = conn.execute(select(*_LIST_COLUMNS).where(procedures.c.key == key, procedures.c.sha256 == sha256))
    row = found.mappings().first()
    return dict(row) if row else None


def next_version(conn: Connection, key: str) -> int:
    current = conn.execute(select(func.max(procedures.c.version)).where(procedures.c.key == key)).scalar()
    return (current or 0) + 1


def get(conn: Connection, key: str, version: int | None = None) -> dict[str, Any] | None:
    query = select(*_LIST_COLUMNS).where(procedures.c.key == key)
    query = query.where(procedures.c.version == version) if version is not None else \
        query.order_by(procedures.c.version.desc()).limit(1)
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def get_by_id(conn: Connection, procedure_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(*_LIST_COLUMNS).where(procedures.c.id == procedure_id)).mappings().first()
    return dict(row) if row else None


def bpmn(conn: Connection, procedure_id: str) -> bytes | None:
    return conn.execute(select(procedures.c.bpmn).where(procedures.c.id == procedure_id)).scalar()


def versions(conn: Connection, key: str) -> list[dict[str, Any]]:
    rows = conn.execute(select(*_LIST_COLUMNS).where(procedures.c.key == key).order_by(procedures.c.version))
    return [dict(r) for r in rows.mappings()]


def latest_of_each(conn: Connection) -> list[dict[str, Any]]:
    latest = (select(procedures.c.key, func.max(procedures.c.version).label("v"))
              .group_by(procedures.c.key).subquery())
    query = (select(*_LIST_COLUMNS)
             .join(latest, (procedures.c.key == latest.c.key) & (procedures.c.version == latest.c.v))
             .order_by(procedures.c.key))
    return [dict(r) for r in conn.execute(query).mappings()]


def search(conn: Connection, *, key: str | None = None, keys: list[str] | None = None, name: str | None = None,
           version: int | None = None, latest: bool = False, ids: list[str] | None = None,
           offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
    """Versions by key, name, version or id, optionally only the latest of each key; ordered by key, version."""
    query = select(*_LIST_COLUMNS)
    if latest:
        newest = (select(procedures.c.key, func.max(procedures.c.version).label("v"))
                  .group_by(procedures.c.key).subquery())
        query = query.join(newest, (procedures.c.key == newest.c.key) & (procedures.c.version == newest.c.v))
    if key is not None:
        query = query.where(procedures.c.key == key)
    if keys:
        query = query.where(procedures.c.key.in_(keys))
    if name is not None:
        query = query.where(procedures.c.name == name)
    if version is not None:
        query = query.where(procedures.c.version == version)
    if ids is not None:
        query = query.where(procedures.c.id.in_(ids))
    query = query.order_by(procedures.c.key, procedures.c.version).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]


def find(conn: Connection, key: str, *, version: int | None = None,
         version_tag: str | None = None) -> dict[str, Any] | None:
    """A version of a procedure: the given number, the newest with a version tag, or the latest."""
    query = select(*_LIST_COLUMNS).where(procedures.c.key == key)
    if version is not None:
        query = query.where(procedures.c.version == version)
    if version_tag is not None:
        query = query.where(procedures.c.version_tag == version_tag)
    row = conn.execute(query.order_by(procedures.c.version.desc()).limit(1)).mappings().first()
    return dict(row) if row else None
