"""Use cases for debriefs after major incidents: the record on demand, and its snapshot at completion."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from engine.db import audit_rows, debrief_rows, incident_rows, personal_rows, procedure_rows
from engine.errors import NotFound
from engine.monitoring.debrief import assemble, is_major
from engine.records.declarations import mark_erased

from .engine_app import IncidentEngine

if TYPE_CHECKING:
    from .recording import Step


def _audit(conn: Connection, incident_id: str) -> list[dict[str, Any]]:
    rows, after = [], 0
    while True:
        batch = audit_rows.for_incident(conn, incident_id, after_id=after)
        rows.extend(batch)
        if len(batch) < 1000:
            return rows
        after = batch[-1]["id"]


def debrief(engine: IncidentEngine, incident_id: str) -> dict[str, Any]:
    """The debrief record of a major incident, assembled now from its audit trail (running or ended).

    NotFound for an unknown incident and for one that is not major (there is no debrief for it)."""
    with engine.uow(write=False) as uow:
        incident = incident_rows.get(uow.conn, incident_id)
        if incident is None:
            raise NotFound(f"no incident {incident_id}")
        procedure = procedure_rows.get_by_id(uow.conn, incident["procedure_id"]) or {}
        summary = procedure.get("summary") or {}
        if not is_major(summary.get("properties"), incident["data"])[0]:
            raise NotFound(f"incident {incident_id} is not a major incident (its procedure is not marked major "
                           "and its priority is not P1), so it has no debrief")
        lanes = {t["id"]: t.get("lane") for t in summary.get("user_tasks", [])}
        record = assemble(incident, _audit(uow.conn, incident_id), summary.get("properties"), lanes)
        erased = frozenset(n for n, v in personal_rows.values(uow.conn, incident_id).items() if v is None)
        if erased:  # the record never held the values; once erased, their fields read as erased
            record = mark_erased(record, erased)
        snapshot = debrief_rows.get(uow.conn, incident_id)
    record["snapshot_at"] = snapshot["created_at"] if snapshot else None
    return record


def snapshot_on_completion(conn: Connection, step: Step, data: dict[str, Any]) -> None:
    """Keep the debrief of a major incident that just completed (called with its audit rows written)."""
    definition = step.runtime.definition
    if not is_major(definition.process_properties, data)[0]:
        return
    incident = {**step.incident, "status": "completed", "ended_at": step.at, "data": data}
    lanes = {t.id: t.lane for t in definition.user_tasks}
    record = assemble(incident, _audit(conn, incident["id"]), definition.process_properties, lanes)
    debrief_rows.save(conn, incident["id"], step.runtime.key, step.runtime.version, record, step.at)
