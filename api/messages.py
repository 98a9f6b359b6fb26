"""HTTP resource for messages: correlate one to the incident waiting for it, or start one on a message start event."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from engine.services import messages

from .auth import requires
from .extensions import engine
from .identity import current_principal
from .schemas.common import ProblemSchema
from .schemas.events import CorrelationSchema, MessageSchema, TriggerSchema
from .schemas.incidents import IncidentSchema

blp = Blueprint("messages", __name__, url_prefix="/api/v1/messages", description="Messages")
triggers = Blueprint("triggers", __name__, url_prefix="/api/v1/incidents", description="Wait states")


@blp.route("")
class MessageCollection(MethodView):
    @requires("messages.correlate")
    @blp.arguments(MessageSchema)
    @blp.response(200, CorrelationSchema, description="delivered to the one waiting incident (or, with `all`, "
                                                      "to every one)")
    @blp.alt_response(201, schema=CorrelationSchema, description="no incident waited: the message started one")
    @blp.alt_response(404, schema=ProblemSchema, description="nothing waits for it and nothing starts on it")
    @blp.alt_response(409, schema=ProblemSchema, description="several incidents match (listed), or a concurrent "
                                                             "correlation took the wait")
    @blp.alt_response(422, schema=ProblemSchema, description="a bad request, or no procedure declares that name")
    def post(self, body: dict[str, Any]) -> Any:
        """Correlate a message, with Camunda's semantics: exactly one waiting incident gets it; when none
        waits, an active procedure's message start event starts an incident. A message that arrives before
        its incident waits for it is refused (404), not kept."""
        result = messages.correlate(engine(), principal=current_principal(), **body)
        started = any(r["started"] for r in result["results"])
        delivered = any(not r["started"] for r in result["results"])
        return result, 201 if started and not delivered else 200


@triggers.route("/<incident_id>/trigger")
class IncidentTrigger(MethodView):
    @requires("messages.correlate")
    @triggers.arguments(TriggerSchema)
    @triggers.response(200, IncidentSchema, description="the incident, moved on from the wait state")
    @triggers.alt_response(404, schema=ProblemSchema, description="no such incident (or not yours)")
    @triggers.alt_response(409, schema=ProblemSchema, description="it does not wait at that element")
    @triggers.alt_response(422, schema=ProblemSchema)
    def post(self, body: dict[str, Any], incident_id: str) -> dict[str, Any]:
        """Move an incident on from a receive task without a message (a wait state, which Camunda triggers
        with `POST /execution/{id}/signal`)."""
        return messages.trigger(engine(), incident_id, body["element_id"], variables=body["variables"],
                                principal=current_principal())
