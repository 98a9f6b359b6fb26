"""HTTP resource for incidents: start one on a procedure, read, list, cancel, and read its audit trail."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from engine.services import audit, incidents

from .extensions import engine
from .identity import current_actor
from .schemas.common import ProblemSchema
from .schemas.incidents import (
    AuditListSchema,
    CancelSchema,
    IncidentPageSchema,
    IncidentQuerySchema,
    IncidentSchema,
    IncidentStartSchema,
)

blp = Blueprint("incidents", __name__, url_prefix="/api/v1/incidents", description="Incidents")


@blp.route("")
class IncidentCollection(MethodView):
    @blp.arguments(IncidentQuerySchema, location="query")
    @blp.response(200, IncidentPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Incidents, newest first, optionally by status and procedure (paged with `cursor`)."""
        items, cursor = incidents.page(engine(), **query)
        return {"items": items, "next_cursor": cursor}

    @blp.arguments(IncidentStartSchema)
    @blp.response(201, IncidentSchema, description="the incident was started")
    @blp.alt_response(200, schema=IncidentSchema, description="an incident with this reference already exists")
    @blp.alt_response(422, schema=ProblemSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Start an incident; the engine runs until it waits on a person, a timer or external work."""
        view, created = incidents.start(engine(), actor=current_actor(), **body)
        return view, 201 if created else 200


@blp.route("/<incident_id>")
class IncidentItem(MethodView):
    @blp.response(200, IncidentSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, incident_id: str) -> dict[str, Any]:
        """One incident with its open tasks."""
        return incidents.get(engine(), incident_id)


@blp.route("/<incident_id>/cancel")
class IncidentCancel(MethodView):
    @blp.arguments(CancelSchema)
    @blp.response(200, IncidentSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(409, schema=ProblemSchema)
    def post(self, body: dict[str, Any], incident_id: str) -> dict[str, Any]:
        """Cancel a running (or failed) incident, with a reason."""
        return incidents.cancel(engine(), incident_id, reason=body["reason"], actor=current_actor())


@blp.route("/<incident_id>/audit")
class IncidentAudit(MethodView):
    @blp.response(200, AuditListSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, incident_id: str) -> dict[str, Any]:
        """Every audited transition of the incident, in order."""
        return {"items": audit.for_incident(engine(), incident_id)}
