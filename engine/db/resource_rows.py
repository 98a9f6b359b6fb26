"""Reading and writing versions of deployed decisions and forms."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from .tables import resources

_LIST_COLUMNS = [c for c in resources.c if c.name != "content"]


def insert(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(resources.insert().values(**row))


def by_sha(conn: Connection, kind: str, key: str, sha256: str) -> dict[str, Any] | None:
    query = select(*_LIST_COLUMNS).where(resources.c.kind == kind, resources.c.key == key,
                                         resources.c.sha256 == sha256)
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def next_version(conn: Connection, kind: str, key: str) -> int:
    query = select(func.max(resources.c.version)).where(resources.c.kind == kind, resources.c.key == key)
    return (conn.execute(query).scalar() or 0) + 1


def find(conn: Connection, kind: str, key: str, *, version: int | None = None,
         version_tag: str | None = None) -> dict[str, Any] | None:
    """A version of a decision or form: the given number, the newest with a version tag, or the latest."""
    query = select(*_LIST_COLUMNS).where(resources.c.kind == kind, resources.c.key == key)
    if version is not None:
        query = query.where(resources.c.version == version)
    if version_tag is not None:
        query = query.where(resources.c.version_tag == version_tag)
    row = conn.execute(query.order_by(resources.c.version.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def get_by_id(conn: Connection, resource_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(*_LIST_COLUMNS).where(resources.c.id == resource_id)).mappings().first()
    return dict(row) if row else None


def content(conn: Connection, resource_id: str) -> bytes | None:
    return conn.execute(select(resources.c.content).where(resources.c.id == resource_id)).scalar()


def versions(conn: Connection, kind: str, key: str) -> list[dict[str, Any]]:
    query = select(*_LIST_COLUMNS).where(resources.c.kind == kind, resources.c.key == key)
    return [dict(r) for r in conn.execute(query.order_by(resources.c.version)).mappings()]


def latest_of_each(conn: Connection, kind: str) -> list[dict[str, Any]]:
    newest = (select(resources.c.key, func.max(resources.c.version).label("v"))
              .where(resources.c.kind == kind).group_by(resources.c.key).subquery())
    query = (select(*_LIST_COLUMNS).where(resources.c.kind == kind)
             .join(newest, (resources.c.key == newest.c.key) & (resources.c.version == newest.c.v))
             .order_by(resources.c.key))
    return [dict(r) for r in conn.execute(query).mappings()]


def everything(conn: Connection) -> list[dict[str, Any]]:
    """Every stored decision and form version with its content (for a scenario's isolated database)."""
    return [dict(r) for r in conn.execute(select(resources).order_by(resources.c.created_at)).mappings()]
