"""Fitness-test rows: the request, its progress, the stored report and the raw Locust CSV files."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from .tables import fitness_tests

_SUMMARY = [c for c in fitness_tests.c if not c.name.endswith("_csv")]


def insert(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(fitness_tests.insert().values(**row))


def get(conn: Connection, test_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(*_SUMMARY).where(fitness_tests.c.id == test_id)).mappings().first()
    return dict(row) if row else None


def csv(conn: Connection, test_id: str, name: str) -> str | None:
    return conn.execute(select(fitness_tests.c[f"{name}_csv"]).where(fitness_tests.c.id == test_id)).scalar()


def update(conn: Connection, test_id: str, values: dict[str, Any]) -> None:
    conn.execute(fitness_tests.update().where(fitness_tests.c.id == test_id).values(**values))


def start(conn: Connection, test_id: str, values: dict[str, Any]) -> bool:
    """queued -> running; False when another runner took it first (or it is no longer queued)."""
    result = conn.execute(fitness_tests.update()
                          .where(fitness_tests.c.id == test_id, fitness_tests.c.status == "queued")
                          .values(status="running", **values))
    return result.rowcount == 1


def for_procedure(conn: Connection, procedure_id: str) -> list[dict[str, Any]]:
    query = select(*_SUMMARY).where(fitness_tests.c.procedure_id == procedure_id) \
        .order_by(fitness_tests.c.created_at.desc(), fitness_tests.c.id)
    return [dict(r) for r in conn.execute(query).mappings()]
