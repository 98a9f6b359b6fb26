"""The check_results table: one row per check evaluation or override, written with the audit rows."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, false, func, or_, select

from . import pipeline
from .prebuilt import Prebuilt
from .tables import check_results

EVALUATED = ("passed", "failed")


_INSERT = Prebuilt(check_results.insert().inline())  # no RETURNING of the id: nobody reads it (a pipelined write)


def insert(conn: Connection, row: dict[str, Any]) -> None:
    pipeline.write(conn, _INSERT, row)


def evaluations(conn: Connection, incident_id: str, check_name: str) -> int:
    """How many times the check has been evaluated in this incident (overrides are not evaluations)."""
    found = pipeline.read(conn, _EVALUATIONS, {"b_incident": incident_id, "b_check": check_name})
    return int(found[0]["n"] or 0) if found else 0


_EVALUATIONS = Prebuilt(select(func.count().label("n")).select_from(check_results).where(
    check_results.c.incident_id == bindparam("b_incident"), check_results.c.check_name == bindparam("b_check"),
    or_(*(check_results.c.outcome == outcome for outcome in EVALUATED))))


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
