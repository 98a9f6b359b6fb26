"""Camunda resource `/history`: an incident's task and activity history, read from our audit trail."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from engine.services import history

from ..extensions import engine
from ..identity import current_principal
from . import translate as t

blp = Blueprint("history", __name__, url_prefix="/history")

_ACTIVITY_TYPES = {"startEvent": "startEvent", "endEvent": "noneEndEvent", "userTask": "userTask",
                   "serviceTask": "serviceTask", "exclusiveGateway": "exclusiveGateway",
                   "parallelGateway": "parallelGateway", "boundaryEvent": "boundaryTimer"}


def _instance() -> str:
    t.served(frozenset({"processInstanceId"}), what="the history query")
    instance = t.text("processInstanceId")
    if instance is None:
        raise t.bad_request("processInstanceId is required: history is read one process instance at a time")
    return instance


def _millis(start: Any, end: Any) -> int | None:
    return int((end - start).total_seconds() * 1000) if start and end else None


def _page(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    first, maximum = t.paging()
    return items[first:first + maximum if maximum is not None else None]


@blp.get("/task")
def task_history() -> Response:
    rows = history.tasks(engine(), _instance(), principal=current_principal())
    return jsonify(_page([{
        "id": r["id"], "processDefinitionKey": r["procedure_key"], "processDefinitionId": r["procedure_id"],
        "processInstanceId": r["incident_id"], "executionId": r["incident_id"], "caseDefinitionKey": None,
        "caseDefinitionId": None, "caseInstanceId": None, "caseExecutionId": None, "activityInstanceId": r["id"],
        "name": r["name"], "description": r.get("documentation"), "deleteReason":
            {"completed": "completed", "cancelled": "deleted"}.get(r["state"]),
        "owner": None, "assignee": r["assignee"], "startTime": t.fmt_date(r["created_at"]),
        "endTime": t.fmt_date(r["ended_at"]), "duration": _millis(r["created_at"], r["ended_at"]),
        "taskDefinitionKey": r["element_id"], "priority": r.get("priority", 50), "due": t.fmt_date(r["due_at"]), "parentTaskId": None,
        "followUp": None, "tenantId": None, "removalTime": None, "rootProcessInstanceId": r["incident_id"],
        "taskState": {"ready": "Created", "completed": "Completed", "cancelled": "Deleted"}.get(r["state"]),
    } for r in rows]))


@blp.get("/activity-instance")
def activity_history() -> Response:
    items = history.activities(engine(), _instance(), principal=current_principal())
    return jsonify(_page([{
        "id": a["id"], "parentActivityInstanceId": a["incident_id"], "activityId": a["element_id"],
        "activityName": a["element_name"], "activityType": _ACTIVITY_TYPES.get(a["element_type"] or "",
                                                                               a["element_type"]),
        "processDefinitionKey": a["procedure"], "processDefinitionId": None, "processInstanceId": a["incident_id"],
        "executionId": a["incident_id"], "taskId": a["id"] if a["element_type"] == "userTask" else None,
        "calledProcessInstanceId": None, "calledCaseInstanceId": None, "assignee": a["actor"],
        "startTime": t.fmt_date(a["started_at"]), "endTime": t.fmt_date(a["ended_at"]),
        "durationInMillis": _millis(a["started_at"], a["ended_at"]), "canceled": a["state"] == "cancelled",
        "completeScope": a["element_type"] == "endEvent", "tenantId": None, "removalTime": None,
        "rootProcessInstanceId": a["incident_id"],
    } for a in items]))
