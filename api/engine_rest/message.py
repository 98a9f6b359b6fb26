"""Camunda resource `/message`: correlate a message through the engine's messages service (issue 12).

Camunda's answers: 204 without a body unless `resultEnabled` (pycamunda then needs `resultEnabled: true`,
exactly as against Camunda), else a list of `{resultType, execution | processInstance}`; a message that
matches nothing, or more than one wait without `all`, is Camunda's 400 with the engine's explanation.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from engine.errors import Conflict, Invalid, NotFound
from engine.services import messages

from ..extensions import engine
from ..identity import current_principal
from . import translate as t
from .process_instance import RUNNING, instance_dto

blp = Blueprint("message", __name__, url_prefix="/message")
_UNSUPPORTED = {"localCorrelationKeys": "correlation on local variables",
                "processVariablesLocal": "local variables", "processVariablesToTriggeredScope": "scoped variables"}


def _result(item: dict[str, Any], with_variables: bool) -> dict[str, Any]:
    view = item["incident"]
    result: dict[str, Any] = {"resultType": "ProcessDefinition" if item["started"] else "Execution",
                              "execution": None, "processInstance": None}
    if item["started"]:
        result["processInstance"] = instance_dto(view)
    else:  # our incident is its own (only) execution
        result["execution"] = {"id": view["id"], "processInstanceId": view["id"],
                               "ended": view["status"] not in RUNNING, "tenantId": None}
    if with_variables:
        result["variables"] = t.variables_out(view.get("data"))
    return result


def _request(body: dict[str, Any]) -> dict[str, Any]:
    name = body.get("messageName")
    if name is None:
        raise t.bad_request("No message name supplied")
    if body.get("tenantId") is not None:
        raise t.bad_request("tenantId: multi-tenancy is not supported by this engine; leave it out")
    for field, what in _UNSUPPORTED.items():
        if body.get(field):
            raise t.bad_request(f"{field}: {what} are not supported by this engine (incidents have one scope); "
                                "use correlationKeys and processVariables")
    instance = body.get("processInstanceId")
    if instance is not None and not isinstance(instance, str):
        raise t.bad_request("processInstanceId must be a string")
    starts_only = t.flag("startMessagesOnly", body)
    if starts_only and (instance or body.get("correlationKeys")):
        raise t.bad_request("startMessagesOnly cannot be combined with processInstanceId or correlationKeys")
    return {"name": name, "reference": body.get("businessKey"), "all": t.flag("all", body),
            "correlation": t.variables_in(body.get("correlationKeys"), "correlationKeys") or None,
            "variables": t.variables_in(body.get("processVariables"), "processVariables"),
            "incident_id": instance or None, "starts_only": starts_only}


def _mismatch(name: Any, detail: str) -> t.RestError:
    """Camunda's MismatchingMessageCorrelationException, which its REST layer answers with a 400."""
    return t.RestError(400, f"Cannot correlate message '{name}': {detail}", "RestException")


@blp.post("")
def correlate() -> Response:
    body = t.body()
    query = _request(body)
    try:
        outcome = messages.correlate(engine(), principal=current_principal(), **query)
    except NotFound as err:
        raise _mismatch(query["name"], f"No process definition or execution matches the parameters ({err.detail})") \
            from None
    except Invalid as err:
        if any(p.field == "name" for p in err.problems) and isinstance(query["name"], str) and query["name"]:
            raise _mismatch(query["name"], err.detail) from None
        raise
    except Conflict as err:
        if "incidents" in err.extra or "procedures" in err.extra:  # more than one match without `all`
            raise _mismatch(query["name"], err.detail) from None
        raise  # a concurrent correlation took the wait: Camunda's 500, as for an optimistic-locking loss
    if not t.flag("resultEnabled", body):
        return Response(status=204)
    with_variables = t.flag("variablesInResultEnabled", body)
    return jsonify([_result(item, with_variables) for item in outcome["results"]])
