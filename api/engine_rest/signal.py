"""Camunda resource `/signal`: broadcast a signal through the engine's signals service (issue 12); 204.

Camunda delivers a signal to one execution when `executionId` is given; our signals always broadcast
(a signal to one incident is a message), so that field is refused rather than ignored. Unlike Camunda,
a name that no deployed procedure declares is a 400, so a typo is never mistaken for "nobody waited".
"""
from __future__ import annotations

from flask import Blueprint, Response

from engine.errors import Invalid
from engine.services import signals

from ..extensions import engine
from ..identity import current_principal
from . import translate as t

blp = Blueprint("signal", __name__, url_prefix="/signal")


@blp.post("")
def throw() -> Response:
    body = t.body()
    name = body.get("name")
    if name is None:
        raise t.bad_request("No signal name given")
    if body.get("tenantId") is not None:
        raise t.bad_request("tenantId: multi-tenancy is not supported by this engine; leave it out")
    if body.get("executionId") is not None:
        raise t.bad_request("executionId: a signal here reaches every incident waiting for it; to reach one "
                            "incident, correlate a message (POST /message with processInstanceId)")
    variables = t.variables_in(body.get("variables"))
    try:
        signals.broadcast(engine(), name=name, variables=variables, principal=current_principal())
    except Invalid as err:
        if any(p.field == "name" for p in err.problems) and isinstance(name, str) and name:
            raise t.RestError(400, f"Cannot throw signal '{name}': {err.detail}", "RestException") from None
        raise
    return Response(status=204)
