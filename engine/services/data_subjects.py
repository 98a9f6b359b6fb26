"""Data subjects' rights under UK GDPR: erasure on request (Art. 17) and access (Art. 15), for the DPO only.

Both are recorded whatever they find (who asked, when, for whom as a keyed hash, the legal basis given),
and each incident erased gets its own audit row.
"""
from __future__ import annotations

import uuid
from typing import Any

from engine import clock
from engine.db import audit_rows, incident_rows, personal_rows
from engine.errors import Invalid, Problem
from engine.identity import policy
from engine.identity.principal import Principal
from engine.records import keys
from engine.records.declarations import subject_key

from .engine_app import IncidentEngine
from .erasure import erase_incident

MAX_IDENTIFIER = 255


def check_identifier(value: Any, field: str = "subject_id") -> str:
    if not isinstance(value, str):
        raise Invalid("the data subject's identifier must be a string", [Problem("must be a string", field=field)])
    if not value.strip():
        raise Invalid("the data subject's identifier is empty", [Problem("must not be empty", field=field)])
    if len(value) > MAX_IDENTIFIER:
        raise Invalid("the data subject's identifier is too long",
                      [Problem(f"at most {MAX_IDENTIFIER} characters", field=field)])
    return value


def erase(engine: IncidentEngine, subject_id: Any, *, legal_basis: str, principal: Principal | None = None,
          actor: str | None = None) -> dict[str, Any]:
    """Erase the subject's personal data from every incident not under legal hold (running ones too)."""
    policy.require(principal, "data_subjects.erase")
    subject_id = check_identifier(subject_id)
    actor = principal.user_id if principal is not None else actor
    now, request_id = clock.now(), str(uuid.uuid4())
    with engine.uow() as uow:
        key = subject_key(keys.for_connection(uow.conn), subject_id)
        ids = personal_rows.incidents_of(uow.conn, key)
        holds = personal_rows.holds(uow.conn, ids)
        erased, already = [], []
        for incident_id in ids:
            if incident_id in holds:
                continue
            incident = incident_rows.lock(uow.conn, incident_id)
            if incident is None:
                continue
            done = erase_incident(uow.conn, incident, reason="request", actor=actor, at=now,
                                  detail={"request_id": request_id, "legal_basis": legal_basis})
            if done is None:
                already.append(incident_id)
            else:
                erased.append(done)
        result = {
            "request_id": request_id, "requested_at": now, "requested_by": actor, "legal_basis": legal_basis,
            "incidents": len(ids), "erased": erased,
            "values_erased": sum(e["values"] for e in erased),
            "audit_payloads_erased": sum(e["audit_payloads"] for e in erased),
            "already_erased": already,
            "held": [{"incident_id": i, "reason": h["reason"], "set_by": h["set_by"]} for i, h in holds.items()],
        }
        result["nothing_erased"] = not erased
        result["message"] = _message(result)
        personal_rows.record_request(uow.conn, {
            "id": request_id, "kind": "erasure", "subject_key": key, "requested_by": actor, "requested_at": now,
            "legal_basis": legal_basis, "result": {**result, "requested_at": now.isoformat()}})
        uow.commit()
    return result


def _message(result: dict[str, Any]) -> str:
    if not result["incidents"]:
        return "no personal data is held about this data subject; nothing was erased"
    parts = [f"erased {result['values_erased']} value(s) from {len(result['erased'])} incident(s)"]
    if result["already_erased"]:
        parts.append(f"{len(result['already_erased'])} incident(s) held nothing more (already erased)")
    if result["held"]:
        parts.append(f"{len(result['held'])} incident(s) are under legal hold and were not erased")
    return "; ".join(parts)


def export(engine: IncidentEngine, subject_id: Any, *, principal: Principal | None = None) -> dict[str, Any]:
    """Everything held about the subject, as one document: incidents, personal values, audit entries."""
    policy.require(principal, "data_subjects.export")
    subject_id = check_identifier(subject_id, field="id")
    now = clock.now()
    with engine.uow() as uow:
        key = subject_key(keys.for_connection(uow.conn), subject_id)
        ids = personal_rows.incidents_of(uow.conn, key)
        values = personal_rows.rows(uow.conn, ids)
        holds = personal_rows.holds(uow.conn, ids)
        incidents = []
        for incident_id in ids:
            row = incident_rows.get(uow.conn, incident_id)
            if row is None:
                continue
            trail = [_entry(r) for r in audit_rows.chain_rows(uow.conn, incident_id)
                     if r["personal"] is not None or r["personal_mac"] is not None
                     or r["kind"] == "personal_data_erased"]
            incidents.append({
                "incident_id": incident_id, "procedure": row["procedure_key"], "version": row["procedure_version"],
                "status": row["status"], "created_at": row["created_at"], "ended_at": row["ended_at"],
                "legal_hold": incident_id in holds,
                "personal_data": [{"name": v["name"], "value": v["value"], "recorded_at": v["recorded_at"],
                                   "retain_until": v["retain_until"], "erased_at": v["erased_at"],
                                   "erased_reason": v["erased_reason"]}
                                  for v in values if v["incident_id"] == incident_id],
                "audit": trail,
            })
        requests = [{"id": r["id"], "kind": r["kind"], "requested_at": r["requested_at"],
                     "requested_by": r["requested_by"], "legal_basis": r["legal_basis"]}
                    for r in personal_rows.requests_for(uow.conn, key)]
        actor = principal.user_id if principal is not None else None
        request_id = str(uuid.uuid4())
        personal_rows.record_request(uow.conn, {
            "id": request_id, "kind": "access", "subject_key": key, "requested_by": actor, "requested_at": now,
            "legal_basis": "Art. 15", "result": {"incidents": len(incidents)}})
        uow.commit()
    return {"subject_id": subject_id, "generated_at": now, "request_id": request_id, "incidents": incidents,
            "requests": requests}


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "seq": row["seq"], "kind": row["kind"], "at": row["at"], "actor": row["actor"],
            "element_id": row["element_id"], "task_id": row["task_id"], "data": row["data"],
            "personal": row["personal"], "erased": row["personal"] is None and row["personal_mac"] is not None}
