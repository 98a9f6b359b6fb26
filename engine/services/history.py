"""An incident's history read from the audit trail: the activities it went through and its human tasks.

Each activity instance is one workflow task of the trail: it starts at its first audited state and ends
at `completed` or `cancelled`; a gateway or an event that passed in one step starts and ends at once.
"""
from __future__ import annotations

from typing import Any

from engine.db import task_rows

from . import audit
from .engine_app import IncidentEngine

_ENDS = {"completed", "cancelled", "error"}
_KINDS = {"task", "gateway", "timer_fired"}


def activity_instances(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pure: audit rows (in order) to activity instances, in the order they started."""
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["kind"] not in _KINDS or not row.get("task_id") or not row.get("element_id"):
            continue
        item = found.get(row["task_id"])
        if item is None:
            item = found[row["task_id"]] = {
                "id": row["task_id"], "incident_id": row["incident_id"], "element_id": row["element_id"],
                "element_name": row.get("element_name"), "element_type": row.get("element_type"),
                "procedure": row["procedure_key"], "version": row["procedure_version"],
                "started_at": row["at"], "ended_at": None, "state": row.get("to_state"), "actor": None,
            }
        item["state"] = row.get("to_state")
        if row.get("to_state") in _ENDS:
            item["ended_at"] = row["at"]
            item["actor"] = row.get("actor")
    return list(found.values())


def activities(engine: IncidentEngine, incident_id: str, *, principal: Any = None) -> list[dict[str, Any]]:
    """The incident's activity instances (who may read its audit trail may read these)."""
    return activity_instances(audit.for_incident(engine, incident_id, principal=principal))


def tasks(engine: IncidentEngine, incident_id: str, *, principal: Any = None) -> list[dict[str, Any]]:
    """Every human task of the incident, open or ended, with the incident's procedure version id."""
    with engine.uow(write=False) as uow:
        incident = audit.require_readable(uow.conn, incident_id, principal)
        rows = task_rows.for_incident(uow.conn, incident_id)
    return [{**r, "procedure_id": incident["procedure_id"], "reference": incident["reference"]} for r in rows]
