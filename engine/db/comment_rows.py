"""Review comments on a procedure version: add, list, resolve, count the open ones."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from .tables import review_comments


def insert(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(review_comments.insert().values(**row))


def get(conn: Connection, procedure_id: str, comment_id: str) -> dict[str, Any] | None:
    query = select(review_comments).where(review_comments.c.id == comment_id,
                                          review_comments.c.procedure_id == procedure_id)
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def for_procedure(conn: Connection, procedure_id: str, status: str | None = None) -> list[dict[str, Any]]:
    query = select(review_comments).where(review_comments.c.procedure_id == procedure_id)
    if status:
        query = query.where(review_comments.c.status == status)
    query = query.order_by(review_comments.c.created_at, review_comments.c.id)
    return [dict(r) for r in conn.execute(query).mappings()]


def resolve(conn: Connection, comment_id: str, values: dict[str, Any]) -> bool:
    """Resolve an open comment; False when it was resolved meanwhile."""
    result = conn.execute(review_comments.update()
                          .where(review_comments.c.id == comment_id, review_comments.c.status == "open")
                          .values(status="resolved", **values))
    return result.rowcount == 1


def count_open(conn: Connection, procedure_id: str) -> int:
    query = select(func.count()).select_from(review_comments).where(
        review_comments.c.procedure_id == procedure_id, review_comments.c.status == "open")
    return int(conn.execute(query).scalar() or 0)
