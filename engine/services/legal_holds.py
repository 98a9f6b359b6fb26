"""Legal holds: a supervisor keeps an incident's personal data from erasure (litigation, a regulator's
inquiry), with a reason; setting and releasing one is audited."""
from __future__ import annotations

from typing import Any

from engine import clock
from engine.db import audit_rows, incident_rows, personal_rows
from engine.errors import NotFound
from engine.identity import policy
from engine.identity.principal import Principal

from .engine_app import IncidentEngine


def _audit(conn: Any, incident: dict[str, Any], kind: str, actor: str | None, at: Any, data: dict[str, Any]) -> None:
    audit_rows.append(conn, [{
        "incident_id": incident["id"], "procedure_key": incident["procedure_key"],
        "procedure_version": incident["procedure_version"], "kind": kind, "task_id": None, "element_id": None,
        "element_name": None, "element_type": None, "from_state": None, "to_state": None, "actor": actor,
        "at": at, "data": data, "test": bool(incident.get("test")), "personal": None}])


def set_hold(engine: IncidentEngine, incident_id: str, *, reason: str,
             principal: Principal | None = None) -> dict[str, Any]:
    policy.require(principal, "incidents.hold")
    actor, now = (principal.user_id if principal else None), clock.now()
    with engine.uow() as uow:
        incident = incident_rows.lock(uow.conn, incident_id)
        if incident is None:
            raise NotFound(f"no incident {incident_id}")
        personal_rows.set_hold(uow.conn, incident_id, reason, actor, now)
        _audit(uow.conn, incident, "legal_hold_set", actor, now, {"reason": reason})
        uow.commit()
    return {"incident_id": incident_id, "held": True, "reason": reason, "set_by": actor, "set_at": now}


def release_hold(engine: IncidentEngine, incident_id: str, *, principal: Principal | None = None) -> dict[str, Any]:
    policy.require(principal, "incidents.hold")
    actor, now = (principal.user_id if principal else None), clock.now()
    with engine.uow() as uow:
        incident = incident_rows.lock(uow.conn, incident_id)
        if incident is None:
            raise NotFound(f"no incident {incident_id}")
        if personal_rows.release_hold(uow.conn, incident_id):
            _audit(uow.conn, incident, "legal_hold_released", actor, now, {})
        uow.commit()
    return {"incident_id": incident_id, "held": False, "reason": None, "set_by": actor, "set_at": now}
