"""HTTP resources for ops and supervisors: procedure metrics, criteria status and recommendations."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from engine.services import monitoring

from .auth import requires
from .extensions import engine
from .schemas.common import ProblemSchema
from .schemas.monitoring import (
    CriteriaQuerySchema,
    CriteriaStatusSchema,
    MetricsQuerySchema,
    MetricsSchema,
    RecommendationListSchema,
    RecommendationQuerySchema,
)

blp = Blueprint("monitoring", __name__, url_prefix="/api/v1/monitoring",
                description="Monitoring against agreed criteria, and recommendations (roles: ops, supervisor)")


@blp.route("/procedures/<key>")
class ProcedureMetrics(MethodView):
    @requires("metrics.read")
    @blp.arguments(MetricsQuerySchema, location="query")
    @blp.response(200, MetricsSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(422, schema=ProblemSchema)
    def get(self, query: dict[str, Any], key: str) -> dict[str, Any]:
        """Metrics over [since, until): incident counts, cycle time, task wait and work, SLA breaches, checks,
        rework loops, gateway paths and lane queues. Durations in seconds, shares 0..1."""
        pairs = dict(item.split(":", 1) for item in query["filter"])
        return monitoring.procedure_metrics(engine(), key, since=query["since"], until=query["until"],
                                            version=query["version"], filter=pairs)


@blp.route("/procedures/<key>/recommendations")
class ProcedureRecommendations(MethodView):
    @requires("metrics.read")
    @blp.arguments(RecommendationQuerySchema, location="query")
    @blp.response(200, RecommendationListSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(422, schema=ProblemSchema)
    def get(self, query: dict[str, Any], key: str) -> dict[str, Any]:
        """Ranked recommendations, each with its evidence (figures, window, sample size) and BPMN element."""
        return monitoring.recommendations(engine(), key, **query)


@blp.route("/criteria")
class CriteriaStatus(MethodView):
    @requires("metrics.read")
    @blp.arguments(CriteriaQuerySchema, location="query")
    @blp.response(200, CriteriaStatusSchema)
    @blp.alt_response(422, schema=ProblemSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Each agreed criterion (of one objective, or all) over the window: met, at_risk, missed or
        not_enough_data, with the value, the target and the sample size."""
        return monitoring.criteria_status(engine(), **query)
