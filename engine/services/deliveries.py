"""Reading an incident's side effects: each outbox delivery with its attempts and last error."""
from __future__ import annotations

from typing import Any

from engine.db import incident_rows, outbox_rows
from engine.errors import NotFound

from .engine_app import IncidentEngine


def _attempt_view(row: dict[str, Any]) -> dict[str, Any]:
    return {"number": row["number"], "started_at": row["started_at"], "finished_at": row["finished_at"],
            "outcome": row["outcome"] or "in_flight", "http_status": row["http_status"], "error": row["error"],
            "worker": row["worker"]}


def delivery_view(row: dict[str, Any], attempts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row["id"], "incident_id": row["incident_id"], "task_id": row["task_id"],
        "element_id": row["element_id"], "topic": row["topic"], "mode": row["mode"], "status": row["status"],
        "attempt_count": row["attempts"], "last_error": row["last_error"],
        "next_attempt_at": row["next_attempt_at"] if row["status"] == "pending" else None,
        "created_at": row["created_at"], "delivered_at": row["delivered_at"],
        "attempts": [_attempt_view(a) for a in attempts],
    }


def for_incident(engine: IncidentEngine, incident_id: str) -> list[dict[str, Any]]:
    """Every delivery the incident caused, oldest first; NotFound for an unknown incident."""
    with engine.uow(write=False) as uow:
        if incident_rows.get(uow.conn, incident_id) is None:
            raise NotFound(f"no incident {incident_id}")
        rows = outbox_rows.for_incident(uow.conn, incident_id)
        attempts = outbox_rows.attempts_for(uow.conn, [r["id"] for r in rows])
    return [delivery_view(r, attempts[r["id"]]) for r in rows]
