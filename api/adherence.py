"""HTTP resources for process designers and monitoring: a version's lint findings, adherence to its checks."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from engine.services import checks

from .auth import requires
from .extensions import engine
from .schemas.checks import AdherenceQuerySchema, AdherenceSchema, LintSchema
from .schemas.common import ProblemSchema

blp = Blueprint("procedure_checks", __name__, url_prefix="/api/v1/procedures",
                description="Lint findings and check adherence of procedures")


@blp.route("/<key>/versions/<int:number>/lint")
class ProcedureLint(MethodView):
    @requires("procedures.read")
    @blp.response(200, LintSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, key: str, number: int) -> dict[str, Any]:
        """The lint findings of a version: rule id, severity, element id, message (and path, line)."""
        return checks.lint_findings(engine(), key, number)


@blp.route("/<key>/adherence")
class ProcedureAdherence(MethodView):
    @requires("adherence.read")
    @blp.arguments(AdherenceQuerySchema, location="query")
    @blp.response(200, AdherenceSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, query: dict[str, Any], key: str) -> dict[str, Any]:
        """Per version and check: incidents that reached it, passed first time, failed then passed, were
        overridden, or are still failing. `since`: only incidents that first reached the check since then."""
        return checks.adherence(engine(), key, since=query["since"], version=query["version"])
