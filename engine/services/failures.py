"""Failed activities: what Camunda calls incidents, listed for the people who resolve them.

Two kinds: an incident whose workflow could not go on (status `error`, kind `failed_incident`), and an
external task whose worker reported failure with no retries left (kind `failed_external_task`).
"""
from __future__ import annotations

from typing import Any

from engine.db import audit_rows, incident_rows
from engine.identity import policy
from engine.identity.principal import Principal

from .engine_app import IncidentEngine


def _incident_failure(conn: Any, row: dict[str, Any]) -> dict[str, Any]:
    trail = audit_rows.for_incident(conn, row["id"])
    failed = next((r for r in reversed(trail) if r["kind"] == "incident_error"), None)
    element = next((r.get("element_id") for r in reversed(trail) if r.get("element_id")), None)
    return {"id": f"incident:{row['id']}", "kind": "failed_incident", "incident_id": row["id"],
            "procedure_id": row["procedure_id"], "procedure": row["procedure_key"], "element_id": element,
            "message": row["error"], "at": failed["at"] if failed else row["updated_at"], "external_task_id": None}


def search(engine: IncidentEngine, *, incident_id: str | None = None, procedure_id: str | None = None,
           kind: str | None = None, element_id: str | None = None,
           principal: Principal | None = None) -> list[dict[str, Any]]:
    """Open failures, oldest first, of the incidents the caller may see."""
    policy.require(principal, "failures.read")
    scope = None if policy.allowed(principal, "audit.read") else policy.visibility(principal)
    found: list[dict[str, Any]] = []
    with engine.uow(write=False) as uow:
        if kind in (None, "failed_incident"):
            rows = incident_rows.search(uow.conn, procedure_id=procedure_id, statuses=["error"],
                                        ids=[incident_id] if incident_id else None, visible_to=scope)
            found.extend(_incident_failure(uow.conn, r) for r in rows)
        if kind in (None, "failed_external_task"):
            found.extend(_failed_external_tasks(uow.conn, incident_id, procedure_id, scope))
    if element_id is not None:
        found = [f for f in found if f["element_id"] == element_id]
    return sorted(found, key=lambda f: f["at"])


def _failed_external_tasks(conn: Any, incident_id: str | None, procedure_id: str | None,
                           scope: Any) -> list[dict[str, Any]]:
    """External tasks out of retries, with the worker's error message."""
    from engine import clock
    from engine.db import external_task_rows

    rows = external_task_rows.search(conn, incident_id=incident_id, states=["failed"], now=clock.now())
    if procedure_id is not None:
        rows = [r for r in rows if r["procedure_id"] == procedure_id]
    if scope is not None:
        visible = {r["id"] for r in incident_rows.search(conn, ids=[r["incident_id"] for r in rows], visible_to=scope)}
        rows = [r for r in rows if r["incident_id"] in visible]
    return [{"id": f"external-task:{r['id']}", "kind": "failed_external_task", "incident_id": r["incident_id"],
             "procedure_id": r["procedure_id"], "procedure": r["procedure_key"], "element_id": r["element_id"],
             "message": r["error_message"], "at": r["available_at"] or r["created_at"], "external_task_id": r["id"]}
            for r in rows]
