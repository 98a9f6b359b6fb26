"""The check_results table: one row per check evaluation or override, written with the audit rows."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, false, func, select

from . import pipeline
from .tables import check_results

EVALUATED = ("passed", "failed")


_INSERT = check_results.insert().inline()  # no RETURNING of the id: nobody reads it (a pipelined write)


def insert(conn: Connection, row: dict[str, Any]) -> None:
    pipeline.write(conn, _INSERT, row)


def evaluations(conn: Connection, incident_id: str, check_name: str) -> int:
    """How many times the check has been evaluated in this incident (overrides are not evaluations)."""
    query = select(func.count()).select_from(check_results).where(
        check_results.c.incident_id == incident_id, check_results.c.check_name == check_name,
        check_results.c.outcome.in_(EVALUATED))
    return int(conn.execute(query).scalar() or 0)


def for_incident(conn: Connection, incident_id: str) -> list[dict[str, Any]]:
    query = select(check_results).where(check_results.c.incident_id == incident_id).order_by(check_results.c.id)
    return [dict(r) for r in conn.execute(query).mappings()]


def for_procedure(conn: Connection, key: str, version: int | None = None) -> list[dict[str, Any]]:
    """Every result of live incidents of a procedure (one version, or all), oldest first (test incidents
    are never counted in adherence figures)."""
    query = select(check_results).where(check_results.c.procedure_key == key, check_results.c.test == false())
    if version is not None:
        query = query.where(check_results.c.procedure_version == version)
    return [dict(r) for r in conn.execute(query.order_by(check_results.c.id)).mappings()]
