"""Camunda resource `/incident`: failed activities (a failed incident, an external task out of retries)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from engine.services import failures

from ..extensions import engine
from ..identity import current_principal
from . import translate as t

blp = Blueprint("incident", __name__, url_prefix="/incident")
_TYPES = {"failedExternalTask": "failed_external_task", "failedJob": "failed_incident"}
_NAMES = {v: k for k, v in _TYPES.items()}


def incident_dto(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f["id"], "processDefinitionId": f["procedure_id"], "processInstanceId": f["incident_id"],
        "executionId": f["incident_id"], "incidentTimestamp": t.fmt_date(f["at"]),
        "incidentType": _NAMES[f["kind"]], "activityId": f["element_id"], "failedActivityId": f["element_id"],
        "causeIncidentId": f["id"], "rootCauseIncidentId": f["id"], "configuration": f["external_task_id"],
        "tenantId": None, "incidentMessage": f["message"], "jobDefinitionId": None, "annotation": None,
    }


def _search() -> list[dict[str, Any]]:
    t.served(frozenset({"incidentType", "processInstanceId", "processDefinitionId", "activityId"}),
             what="the incident query")
    kind = t.text("incidentType")
    if kind is not None and kind not in _TYPES:
        return []
    return failures.search(engine(), incident_id=t.text("processInstanceId"),
                           procedure_id=t.text("processDefinitionId"), kind=_TYPES.get(kind or ""),
                           element_id=t.text("activityId"), principal=current_principal())


@blp.get("")
def list_incidents() -> Response:
    first, maximum = t.paging()
    found = _search()[first:first + maximum if maximum is not None else None]
    return jsonify([incident_dto(f) for f in found])


@blp.get("/count")
def count_incidents() -> dict[str, int]:
    return {"count": len(_search())}
