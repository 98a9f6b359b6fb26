"""Erasing one incident's personal data: the store's values and the audit payloads, then an audit row.

The one place personal data is forgotten (a request under Art. 17, or the end of retention). Every other
record keeps the marker it always had, so counts, metrics, debriefs and the audit chain are untouched.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from engine.db import audit_rows, personal_rows


def erase_incident(conn: Connection, incident: dict[str, Any], *, reason: str, actor: str | None, at: datetime,
                   detail: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Erase what is still held of `incident`'s personal data; None when nothing was left to erase."""
    names = personal_rows.erase(conn, incident["id"], reason, at)
    payloads = audit_rows.erase_personal(conn, [incident["id"]])
    if not names and not payloads:
        return None
    audit_rows.append(conn, [{
        "incident_id": incident["id"], "procedure_key": incident["procedure_key"],
        "procedure_version": incident["procedure_version"], "kind": "personal_data_erased", "task_id": None,
        "element_id": None, "element_name": None, "element_type": None, "from_state": None, "to_state": None,
        "actor": actor, "at": at, "test": bool(incident.get("test")), "personal": None,
        "data": {"reason": reason, "names": names, "values": len(names), "audit_payloads": payloads,
                 **(detail or {})},
    }])
    return {"incident_id": incident["id"], "names": names, "values": len(names), "audit_payloads": payloads}
