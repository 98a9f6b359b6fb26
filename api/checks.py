"""HTTP resource for an incident's mandatory checks: their status, and a supervisor's override."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from engine.services import checks

from .auth import requires
from .extensions import engine
from .identity import current_actor, current_principal, require_incident_visible
from .schemas.checks import IncidentCheckListSchema, OverrideSchema
from .schemas.common import ProblemSchema
from .schemas.incidents import IncidentSchema

blp = Blueprint("checks", __name__, url_prefix="/api/v1/incidents", description="Mandatory checks")


@blp.route("/<incident_id>/checks")
class IncidentChecks(MethodView):
    @requires("checks.read")
    @blp.response(200, IncidentCheckListSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, incident_id: str) -> dict[str, Any]:
        """Each check the incident reached: outcome, attempts, whether it passed first time, overrides."""
        require_incident_visible(incident_id)
        return {"items": checks.incident_checks(engine(), incident_id)}


@blp.route("/<incident_id>/checks/<name>/override")
class CheckOverride(MethodView):
    @requires("checks.override")
    @blp.arguments(OverrideSchema)
    @blp.response(200, IncidentSchema, description="the incident, moved on along the check's pass flow")
    @blp.alt_response(403, schema=ProblemSchema, description="the caller is not a supervisor")
    @blp.alt_response(404, schema=ProblemSchema, description="no such incident, or no such check")
    @blp.alt_response(409, schema=ProblemSchema, description="the check's latest outcome is not a failure")
    @blp.alt_response(422, schema=ProblemSchema, description="no reason given")
    def post(self, body: dict[str, Any], incident_id: str, name: str) -> dict[str, Any]:
        """Override a failed check with a written reason: the pending rework is cancelled and the incident
        takes the check's pass flow now. Audited (check_overridden) and counted apart in adherence."""
        require_incident_visible(incident_id)
        return checks.override_check(engine(), incident_id, name, reason=body["reason"], actor=current_actor(),
                                     principal=current_principal())

