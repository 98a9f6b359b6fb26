"""The agent inbox: the caller's queue (the same listing as GET /api/v1/tasks) with each incident's summary."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine import clock
from engine.db.tables import incidents
from engine.identity.principal import Principal

from . import tasks
from .engine_app import IncidentEngine
from .task_search import TaskFilter

SUMMARY_FIELDS = ("priority", "summary")


def _summaries(engine: IncidentEngine, ids: list[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    with engine.uow(write=False) as uow:
        rows = uow.conn.execute(select(incidents.c.id, incidents.c.reference, incidents.c.status,
                                       incidents.c.data, incidents.c.test)
                                .where(incidents.c.id.in_(ids))).mappings()
        return {r["id"]: dict(r) for r in rows}


def queue(engine: IncidentEngine, principal: Principal, *, procedure: str | None = None,
          lane: str | None = None, holder: str = "nobody", test: bool = False, limit: int = 50,
          cursor: str | None = None, now: datetime | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """The caller's ready tasks, oldest first, paged: held by `nobody` (offered to them or their groups), by
    `me`, or by `anyone` (a supervisor's view of a lane); each with its incident's reference, priority and summary, its age, and
    whether it is overdue."""
    narrowed = TaskFilter(procedure=procedure, element_id=None, reference=None, candidate_groups=(),
                          include_assigned=True, due_before=None, due_after=None, states=())
    if holder not in ("nobody", "me", "anyone"):
        raise ValueError(f"holder is nobody, me or anyone, not {holder!r}")
    items, next_cursor = tasks.page(engine, lane=lane, assignee="me" if holder == "me" else None,
                                    unassigned=holder == "nobody", limit=limit,
                                    cursor=cursor, test=test, principal=principal, narrowed=narrowed)
    found = _summaries(engine, sorted({t["incident_id"] for t in items}))
    now = now or clock.now()
    for item in items:
        incident = found.get(item["incident_id"]) or {}
        data = incident.get("data") or {}
        item["reference"] = incident.get("reference")
        item.update({f: data.get(f) if isinstance(data.get(f), str | int | float) else None for f in SUMMARY_FIELDS})
        item["age_seconds"] = max(0, int((now - item["created_at"]).total_seconds()))
        item["overdue"] = bool(item["due_at"] and item["due_at"] < now)
        item["mine"] = item["assignee"] == principal.user_id
    return items, next_cursor
