"""Reading and writing deployments (what each set of deployed files contained)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from .tables import deployments


def insert(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(deployments.insert().values(**row))


def get(conn: Connection, deployment_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(deployments).where(deployments.c.id == deployment_id)).mappings().first()
    return dict(row) if row else None


def latest_named(conn: Connection, name: str | None, tenant_id: str | None) -> dict[str, Any] | None:
    """The newest deployment with this name (and tenant), for Camunda-style duplicate filtering."""
    query = select(deployments).where(deployments.c.name.is_(None) if name is None else deployments.c.name == name)
    query = query.where(deployments.c.tenant_id.is_(None) if tenant_id is None
                        else deployments.c.tenant_id == tenant_id)
    row = conn.execute(query.order_by(deployments.c.created_at.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def search(conn: Connection, *, name: str | None = None, source: str | None = None,
           after: tuple[Any, str] | None = None, offset: int = 0, limit: int | None = 50) -> list[dict[str, Any]]:
    """Deployments newest first; `after` is the (created_at, id) of the last one seen (keyset paging)."""
    query = select(deployments)
    if name is not None:
        query = query.where(deployments.c.name == name)
    if source is not None:
        query = query.where(deployments.c.source == source)
    if after is not None:
        at, last_id = after
        query = query.where((deployments.c.created_at < at)
                            | ((deployments.c.created_at == at) & (deployments.c.id < last_id)))
    query = query.order_by(deployments.c.created_at.desc(), deployments.c.id.desc()).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]
