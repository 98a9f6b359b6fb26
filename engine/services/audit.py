"""Reading the audit trail (it is only ever appended to, by the transitions themselves)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.db import audit_rows, incident_rows
from engine.db.pages import bounded_page, decode_sequence, encode_cursor
from engine.errors import NotFound
from engine.identity import policy
from engine.identity.principal import Principal

from .engine_app import IncidentEngine


def audit_view(row: dict[str, Any]) -> dict[str, Any]:
    return dict(row)


def require_readable(conn: Any, incident_id: str, principal: Principal | None) -> dict[str, Any]:
    """The incident, if the caller may read its trail (ops and admin any, others those they take part in;
    designers and ops also the test incidents they take part in)."""
    policy.require_any(principal, "incidents.audit", policy.TEST_INCIDENTS)
    scope = None if policy.allowed(principal, "audit.read") else policy.visibility(principal)
    incident = incident_rows.get(conn, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    policy.require_on(principal, "incidents.audit", incident)
    if scope is not None and not incident_rows.is_visible(conn, incident_id, scope):
        raise NotFound(f"no incident {incident_id}")
    return incident


def for_incident(engine: IncidentEngine, incident_id: str, *,
                 principal: Principal | None = None) -> list[dict[str, Any]]:
    """One incident's trail: for ops (and admin) any incident, for others the incidents they may read
    (designers: the test incidents they take part in)."""
    with engine.uow(write=False) as uow:
        require_readable(uow.conn, incident_id, principal)
        rows, after = [], 0
        while True:
            batch = audit_rows.for_incident(uow.conn, incident_id, after_id=after)
            rows.extend(batch)
            if len(batch) < 1000:
                break
            after = batch[-1]["id"]
    return [audit_view(r) for r in rows]


def page(engine: IncidentEngine, *, procedure: str | None = None, since: datetime | None = None,
         limit: int = 100, cursor: str | None = None, test: bool = False,
         principal: Principal | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """The trail of live incidents (or, with `test`, of test incidents) in the order it was written."""
    policy.require(principal, "audit.read")
    after_id = decode_sequence(cursor)
    with engine.uow(write=False) as uow:
        rows = audit_rows.page(uow.conn, procedure=procedure, since=since,
                               after_id=after_id, limit=limit, test=test)
    return bounded_page([audit_view(r) for r in rows], rows, limit, lambda row: encode_cursor({"id": row["id"]}), max_bytes=engine.settings.max_page_bytes)
