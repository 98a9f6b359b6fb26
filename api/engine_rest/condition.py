"""Camunda resource `/condition`: evaluate the conditional start events of the active procedures (issue 12).

`POST /condition` with `variables` (typed, as Camunda writes them), optional `businessKey` (our incident
reference) and `processDefinitionId` (one procedure version's id): every conditional start event whose
condition is true starts an incident; the answer is the list of process instances started (Camunda's
ProcessInstanceDto). No active procedure with a conditional start event is a 400 as in Camunda ("No
subscriptions were found during evaluation of the conditional start events"). Tenants are refused.
"""
from __future__ import annotations

from flask import Blueprint, Response, jsonify

from engine.errors import NotFound
from engine.services import conditions

from ..extensions import engine
from ..identity import current_principal
from . import translate as t
from .process_instance import instance_dto

blp = Blueprint("condition", __name__, url_prefix="/condition")


@blp.post("")
def evaluate() -> Response:
    body = t.body()
    if body.get("tenantId") is not None or body.get("withoutTenantId"):
        raise t.bad_request("tenantId: multi-tenancy is not supported by this engine; leave it out")
    variables = t.variables_in(body.get("variables"))
    definition = body.get("processDefinitionId")
    if definition is not None and not isinstance(definition, str):
        raise t.bad_request("processDefinitionId must be a string")
    try:
        result = conditions.evaluate_starts(engine(), variables=variables, reference=body.get("businessKey"),
                                            procedure_id=definition, principal=current_principal())
    except NotFound as err:
        raise t.RestError(400, f"No subscriptions were found during evaluation of the conditional start events "
                          f"({err.detail})", "RestException") from None
    return jsonify([instance_dto(started["incident"]) for started in result["started"]])
