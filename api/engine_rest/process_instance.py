"""Camunda resource `/process-instance`: our running incidents, their variables (the incident data), cancel."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from engine.errors import NotFound
from engine.services import conditions, incident_search, incidents

from ..extensions import engine
from ..identity import current_principal
from . import translate as t

blp = Blueprint("process_instance", __name__, url_prefix="/process-instance")
RUNNING = ("running", "error")  # Camunda's runtime queries see instances that have not ended


def instance_dto(view: dict[str, Any]) -> dict[str, Any]:
    """An incident as Camunda's ProcessInstanceDto (businessKey is our incident reference)."""
    return {
        "links": t.links(f"/process-instance/{view['id']}"), "id": view["id"],
        "definitionId": view.get("procedure_id"), "businessKey": view.get("reference"),
        "caseInstanceId": None, "ended": view["status"] not in RUNNING, "suspended": False, "tenantId": None,
    }


QUERY = frozenset({"processDefinitionKey", "processDefinitionId", "businessKey", "processInstanceIds", "variables"})


def _body_conditions(raw: Any) -> list[str]:
    """A POST query's `variables`: a list of {name, operator, value} (Camunda's VariableQueryParameterDto)."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(v, dict) and isinstance(v.get("name"), str)
                                            and isinstance(v.get("operator"), str) for v in raw):
        raise t.bad_request("variables: a list of {\"name\", \"operator\", \"value\"} objects")
    return [f"{v['name']}_{v['operator']}_{v.get('value')}" for v in raw]


def _query(source: Any) -> dict[str, Any]:
    t.served(QUERY, source, what="the process-instance query")
    first, maximum = t.paging(source)
    raw_conditions = t.listed("variables", source) if source is None or hasattr(source, "getlist") \
        else _body_conditions(source.get("variables"))
    ids = t.listed("processInstanceIds", source)
    return {"procedure": t.text("processDefinitionKey", source), "procedure_id": t.text("processDefinitionId", source),
            "reference": t.text("businessKey", source), "ids": ids or None,
            "data": [incident_search.DataCondition.parse(c) for c in raw_conditions],
            "offset": first, "limit": maximum}


def _search(source: Any) -> list[dict[str, Any]]:
    return incident_search.search(engine(), **_query(source), statuses=RUNNING, principal=current_principal())


@blp.get("")
def list_instances() -> Response:
    return jsonify([instance_dto(v) for v in _search(None)])


@blp.post("")
def query_instances() -> Response:
    return jsonify([instance_dto(v) for v in _search(t.body())])


@blp.get("/count")
def count_instances() -> dict[str, Any]:
    from flask import request

    args = request.args.copy()
    args.pop("firstResult", None)
    args.pop("maxResults", None)
    return {"count": len(_search(args))}


def running(instance_id: str) -> dict[str, Any]:
    """The incident if it has not ended, else Camunda's 404 (ended instances are history)."""
    try:
        view = incidents.get(engine(), instance_id, principal=current_principal())
    except NotFound:
        view = None
    if view is None or view["status"] not in RUNNING:
        raise t.not_found(f"Process instance with id {instance_id} does not exist")
    return view


@blp.get("/<instance_id>")
def get_instance(instance_id: str) -> dict[str, Any]:
    return instance_dto(running(instance_id))


@blp.delete("/<instance_id>")
def delete_instance(instance_id: str) -> Response:
    """Camunda's delete is our cancel, with the reason recorded in the audit trail."""
    from flask import request

    try:
        running(instance_id)
    except t.RestError:
        if not t.flag("failIfNotExists", default=True):
            return Response(status=204)
        raise
    reason = request.args.get("deleteReason") or "deleted through the Camunda REST API"
    incidents.cancel(engine(), instance_id, reason=reason, principal=current_principal())
    return Response(status=204)


@blp.get("/<instance_id>/variables")
def variables(instance_id: str) -> dict[str, Any]:
    return t.variables_out(running(instance_id)["data"])


@blp.post("/<instance_id>/variables")
def modify_variables(instance_id: str) -> Response:
    """Camunda's modifyVariables: `modifications` are set (the incident's conditional events listen);
    `deletions` are refused, since variables are never deleted here."""
    body = t.body()
    if body.get("deletions"):
        raise t.bad_request("deletions: variables are not deleted by this engine; set them to null instead")
    values = t.variables_in(body.get("modifications"), "modifications")
    if values:
        conditions.set_variables(engine(), instance_id, variables=values, principal=current_principal())
    return Response(status=204)


@blp.get("/<instance_id>/variables/<name>")
def variable(instance_id: str, name: str) -> dict[str, Any]:
    data = running(instance_id)["data"] or {}
    if name not in data:
        raise t.not_found(f"process instance variable with name {name} does not exist")
    return t.typed(data[name])
