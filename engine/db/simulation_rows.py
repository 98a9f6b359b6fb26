"""Simulation rows (request, progress, prediction) and the audit window a simulation replays."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, false, or_, select

from .tables import audit, simulations

_SUMMARY = [c for c in simulations.c if c.name != "report"]
HISTORY_KINDS = ("incident_started", "task_claimed", "task", "gateway")


def insert(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(simulations.insert().values(**row))


def get(conn: Connection, simulation_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(simulations).where(simulations.c.id == simulation_id)).mappings().first()
    return dict(row) if row else None


def update(conn: Connection, simulation_id: str, values: dict[str, Any]) -> None:
    conn.execute(simulations.update().where(simulations.c.id == simulation_id).values(**values))


def start(conn: Connection, simulation_id: str, now: datetime, lease_until: datetime) -> bool:
    """queued (or running with a lapsed lease: its worker died) -> running; False when another took it."""
    result = conn.execute(simulations.update().where(
        simulations.c.id == simulation_id,
        or_(simulations.c.status == "queued",
            (simulations.c.status == "running") & (simulations.c.lease_until < now)),
    ).values(status="running", started_at=now, lease_until=lease_until))
    return result.rowcount == 1


def runnable_ids(conn: Connection, now: datetime, *, limit: int = 10) -> list[str]:
    query = select(simulations.c.id).where(or_(
        simulations.c.status == "queued",
        (simulations.c.status == "running") & (simulations.c.lease_until < now),
    )).order_by(simulations.c.created_at).limit(limit)
    return [str(r) for r in conn.execute(query).scalars()]


def for_procedure(conn: Connection, procedure_id: str) -> list[dict[str, Any]]:
    query = select(*_SUMMARY).where(simulations.c.procedure_id == procedure_id) \
        .order_by(simulations.c.created_at.desc(), simulations.c.id)
    return [dict(r) for r in conn.execute(query).mappings()]


def history(conn: Connection, key: str, version: int, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """The audit rows of one version's live incidents in [since, until) that a simulation learns from, oldest
    first (test incidents are not the centre's history)."""
    query = select(audit.c.incident_id, audit.c.kind, audit.c.task_id, audit.c.element_id, audit.c.to_state,
                   audit.c.at, audit.c.data).where(
        audit.c.procedure_key == key, audit.c.procedure_version == version, audit.c.test == false(),
        audit.c.kind.in_(HISTORY_KINDS),
        audit.c.at >= since, audit.c.at < until).order_by(audit.c.id)
    return [dict(r) for r in conn.execute(query).mappings()]
