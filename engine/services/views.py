"""The shapes the service layer hands to the edges (plain dicts, no workflow objects)."""
from __future__ import annotations

from typing import Any


def task_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "incident_id": row["incident_id"], "procedure": row["procedure_key"],
        "element_id": row["element_id"], "name": row["name"], "lane": row["lane"],
        "candidate_groups": row["candidate_groups"], "candidate_users": row["candidate_users"],
        "assignee": row["assignee"], "state": row["state"], "form": row["form"],
        "documentation": row.get("documentation"), "created_at": row["created_at"], "due_at": row["due_at"],
        "follow_up_at": row.get("follow_up_at"), "priority": row.get("priority", 50), "form_key": row.get("form_key"),
        "claimed_at": row.get("claimed_at"), "ended_at": row.get("ended_at"), "ended_by": row.get("ended_by"),
        "test": bool(row.get("test")),
    }


def incident_view(row: dict[str, Any], open_tasks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row["id"], "procedure": row["procedure_key"], "version": row["procedure_version"],
        "procedure_id": row.get("procedure_id"),
        "reference": row["reference"], "status": row["status"], "data": row["data"], "error": row["error"],
        "created_at": row["created_at"], "updated_at": row["updated_at"], "ended_at": row["ended_at"],
        "created_by": row["created_by"], "next_timer_at": row["next_timer_at"],
        "test": bool(row.get("test")), "open_tasks": [task_view(t) for t in open_tasks],
        "parent_incident_id": row.get("parent_incident_id"),
    }
