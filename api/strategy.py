"""HTTP resources for strategy: strategies, their objectives and the agreed criteria (designer or admin)."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from engine.governance.criteria import catalogue
from engine.services import strategy

from .auth import requires
from .extensions import engine
from .identity import current_actor
from .schemas.common import PageQuerySchema, ProblemSchema
from .schemas.strategy import (
    CriterionCreateSchema,
    CriterionPageSchema,
    CriterionQuerySchema,
    CriterionSchema,
    MetricListSchema,
    ObjectiveCreateSchema,
    ObjectivePageSchema,
    ObjectiveQuerySchema,
    ObjectiveSchema,
    StrategyCreateSchema,
    StrategyPageSchema,
    StrategySchema,
)

blp = Blueprint("strategy", __name__, url_prefix="/api/v1", description="Strategy, objectives and agreed criteria")


def _page(kind: str, query: dict[str, Any]) -> dict[str, Any]:
    limit, cursor = query.pop("limit"), query.pop("cursor")
    items, next_cursor = strategy.page(engine(), kind, filters=query, limit=limit, cursor=cursor)
    return {"items": items, "next_cursor": next_cursor}


@blp.route("/strategies")
class Strategies(MethodView):
    @requires("strategy.read")
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, StrategyPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Strategies, oldest first."""
        return _page("strategy", query)

    @requires("strategy.write")
    @blp.arguments(StrategyCreateSchema)
    @blp.response(201, StrategySchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record an incident-management strategy (its aim)."""
        return strategy.create(engine(), "strategy", body, actor=current_actor())


@blp.route("/strategies/<strategy_id>")
class StrategyItem(MethodView):
    @requires("strategy.read")
    @blp.response(200, StrategySchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, strategy_id: str) -> dict[str, Any]:
        """One strategy with its objectives."""
        return strategy.get(engine(), "strategy", strategy_id)


@blp.route("/objectives")
class Objectives(MethodView):
    @requires("strategy.read")
    @blp.arguments(ObjectiveQuerySchema, location="query")
    @blp.response(200, ObjectivePageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Operational objectives, optionally of one strategy."""
        return _page("objective", query)

    @requires("strategy.write")
    @blp.arguments(ObjectiveCreateSchema)
    @blp.response(201, ObjectiveSchema)
    @blp.alt_response(422, schema=ProblemSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record an operational objective under a strategy."""
        return strategy.create(engine(), "objective", body, actor=current_actor())


@blp.route("/objectives/<objective_id>")
class ObjectiveItem(MethodView):
    @requires("strategy.read")
    @blp.response(200, ObjectiveSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, objective_id: str) -> dict[str, Any]:
        """One objective with its criteria."""
        return strategy.get(engine(), "objective", objective_id)


@blp.route("/criteria")
class Criteria(MethodView):
    @requires("strategy.read")
    @blp.arguments(CriterionQuerySchema, location="query")
    @blp.response(200, CriterionPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Agreed criteria, optionally of one objective or one procedure."""
        return _page("criterion", query)

    @requires("strategy.write")
    @blp.arguments(CriterionCreateSchema)
    @blp.response(201, CriterionSchema)
    @blp.alt_response(422, schema=ProblemSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record an agreed, measurable target under an objective (see /criteria/metrics)."""
        return strategy.create(engine(), "criterion", body, actor=current_actor())


@blp.route("/criteria/metrics")
class Metrics(MethodView):
    @requires("strategy.read")
    @blp.response(200, MetricListSchema)
    def get(self) -> dict[str, Any]:
        """The metrics a criterion can name, with the statistics, target unit and parameter each takes."""
        return {"items": catalogue()}


@blp.route("/criteria/<criterion_id>")
class CriterionItem(MethodView):
    @requires("strategy.read")
    @blp.response(200, CriterionSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, criterion_id: str) -> dict[str, Any]:
        """One criterion."""
        return strategy.get(engine(), "criterion", criterion_id)
