"""Scenario suites of a version (the newest is the current one) and the runs of them."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from .tables import scenario_runs, scenario_suites

_RUN_SUMMARY = [c for c in scenario_runs.c if c.name != "report"]


def insert_suite(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(scenario_suites.insert().values(**row))


def current_suite(conn: Connection, procedure_id: str) -> dict[str, Any] | None:
    """The suite uploaded last for this version, if any."""
    query = select(scenario_suites).where(scenario_suites.c.procedure_id == procedure_id) \
        .order_by(scenario_suites.c.created_at.desc(), scenario_suites.c.id.desc()).limit(1)
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def insert_run(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(scenario_runs.insert().values(**row))


def run(conn: Connection, run_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(scenario_runs).where(scenario_runs.c.id == run_id)).mappings().first()
    return dict(row) if row else None


def runs(conn: Connection, procedure_id: str, *, limit: int = 50) -> list[dict[str, Any]]:
    """The version's runs, newest first, without their reports."""
    query = select(*_RUN_SUMMARY).where(scenario_runs.c.procedure_id == procedure_id) \
        .order_by(scenario_runs.c.created_at.desc(), scenario_runs.c.id.desc()).limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]


def latest_run(conn: Connection, procedure_id: str, suite_id: str) -> dict[str, Any] | None:
    """The newest run of this suite on this version, with its report."""
    query = select(scenario_runs).where(scenario_runs.c.procedure_id == procedure_id,
                                        scenario_runs.c.suite_id == suite_id) \
        .order_by(scenario_runs.c.created_at.desc(), scenario_runs.c.id.desc()).limit(1)
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None
