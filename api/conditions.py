"""HTTP resources for conditions: conditional start events (Camunda's POST /condition) and setting variables."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from engine.services import conditions

from .auth import requires
from .extensions import engine
from .identity import current_principal
from .schemas.common import ProblemSchema
from .schemas.events import ConditionResultSchema, ConditionSchema, VariablesSchema
from .schemas.incidents import IncidentSchema

blp = Blueprint("conditions", __name__, url_prefix="/api/v1/conditions", description="Conditions")
variables = Blueprint("incident_variables", __name__, url_prefix="/api/v1/incidents",
                      description="Incident variables")


@blp.route("")
class ConditionCollection(MethodView):
    @requires("conditions.evaluate")
    @blp.arguments(ConditionSchema)
    @blp.response(200, ConditionResultSchema, description="the incidents started (none when no condition is true)")
    @blp.alt_response(404, schema=ProblemSchema, description="no active procedure has a conditional start event")
    @blp.alt_response(409, schema=ProblemSchema, description="an incident with that reference exists already")
    @blp.alt_response(422, schema=ProblemSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Evaluate the conditional start events of every active procedure over `variables`: each one whose
        condition is true starts an incident there (Camunda's `POST /condition`)."""
        return conditions.evaluate_starts(engine(), principal=current_principal(), **body)


@variables.route("/<incident_id>/variables")
class IncidentVariables(MethodView):
    @requires("incidents.variables")
    @variables.arguments(VariablesSchema)
    @variables.response(200, IncidentSchema, description="the incident, after its conditional events were evaluated")
    @variables.alt_response(404, schema=ProblemSchema, description="no such incident (or not one you may reach)")
    @variables.alt_response(409, schema=ProblemSchema, description="the incident is not running")
    @variables.alt_response(422, schema=ProblemSchema)
    def post(self, body: dict[str, Any], incident_id: str) -> dict[str, Any]:
        """Set variables on a running incident (Camunda's `POST /process-instance/{id}/variables`); the
        conditional events waiting on them are evaluated in the same transaction."""
        return conditions.set_variables(engine(), incident_id, variables=body["variables"],
                                        principal=current_principal())
