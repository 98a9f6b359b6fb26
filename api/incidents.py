"""HTTP resource for incidents: start one on a procedure, read, list, cancel, and read its audit trail."""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from engine.services import audit, audit_chain, history, incidents

from .auth import requires
from .extensions import engine
from .identity import current_principal
from .lean_dumps import dump_incident
from .schemas.common import ProblemSchema
from .schemas.incidents import (
    ActivityListSchema,
    AuditListSchema,
    CancelSchema,
    IncidentPageSchema,
    IncidentQuerySchema,
    IncidentSchema,
    IncidentStartSchema,
)
from .schemas.records import AuditVerifySchema

blp = Blueprint("incidents", __name__, url_prefix="/api/v1/incidents", description="Incidents")


@blp.route("")
class IncidentCollection(MethodView):
    @requires("incidents.read", "incidents.test")
    @blp.arguments(IncidentQuerySchema, location="query")
    @blp.response(200, IncidentPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Incidents the caller takes part in, newest first, optionally by status and procedure (paged)."""
        items, cursor = incidents.page(engine(), **query, principal=current_principal())
        return {"items": items, "next_cursor": cursor}

    @requires("incidents.start", "incidents.test")
    @blp.arguments(IncidentStartSchema)
    @blp.response(201, IncidentSchema, description="the incident was started")
    @blp.alt_response(200, schema=IncidentSchema, description="an incident with this reference already exists")
    @blp.alt_response(409, schema=ProblemSchema, description="the procedure has no active version (or `version` "
                      "names one that is not active): start a test incident, or take the version through governance")
    @blp.alt_response(422, schema=ProblemSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Start an incident; the engine runs until it waits on a person, a timer or external work.

        A live incident runs the procedure's active version. `"test": true` (designers and ops) runs any
        version instead, marked as a test on every row and never counted by monitoring."""
        view, created = incidents.start(engine(), principal=current_principal(), **body)
        # written by hand, the same document IncidentSchema writes (api/lean_dumps.py)
        return current_app.json.response(dump_incident(view)), 201 if created else 200


@blp.route("/<incident_id>")
class IncidentItem(MethodView):
    @requires("incidents.read", "incidents.test")
    @blp.response(200, IncidentSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, incident_id: str) -> dict[str, Any]:
        """One incident with the caller's open tasks in it; one they take no part in is 404."""
        return incidents.get(engine(), incident_id, principal=current_principal())


@blp.route("/<incident_id>/cancel")
class IncidentCancel(MethodView):
    @requires("incidents.cancel")
    @blp.arguments(CancelSchema)
    @blp.response(200, IncidentSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(409, schema=ProblemSchema)
    def post(self, body: dict[str, Any], incident_id: str) -> dict[str, Any]:
        """Cancel a running (or failed) incident, with a reason."""
        return incidents.cancel(engine(), incident_id, reason=body["reason"], principal=current_principal())


@blp.route("/<incident_id>/audit")
class IncidentAudit(MethodView):
    @requires("incidents.audit", "incidents.test")
    @blp.response(200, AuditListSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, incident_id: str) -> dict[str, Any]:
        """Every audited transition of the incident, in order."""
        return {"items": audit.for_incident(engine(), incident_id, principal=current_principal())}


@blp.route("/<incident_id>/audit/verify")
class IncidentAuditVerify(MethodView):
    @requires("incidents.audit", "incidents.test")
    @blp.response(200, AuditVerifySchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, incident_id: str) -> dict[str, Any]:
        """Recompute the incident's audit hash chain and report the first row that does not hold."""
        return audit_chain.verify_incident(engine(), incident_id, principal=current_principal())


@blp.route("/<incident_id>/activities")
class IncidentActivities(MethodView):
    @requires("incidents.audit")
    @blp.response(200, ActivityListSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, incident_id: str) -> dict[str, Any]:
        """The activities the incident went through (tasks, events, gateways), from its audit trail."""
        return {"items": history.activities(engine(), incident_id, principal=current_principal())}
