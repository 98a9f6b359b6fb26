"""HTTP resource for DMN decisions: the deployed ones, and evaluating one on given inputs (for designers)."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from engine.services import decisions

from .auth import requires
from .extensions import engine
from .identity import current_principal
from .schemas.common import ProblemSchema

blp = Blueprint("decisions", __name__, url_prefix="/api/v1/decisions", description="DMN decisions")


class DecisionVersionSchema(Schema):
    id = fields.String()
    key = fields.String()
    version = fields.Integer()
    name = fields.String(allow_none=True)
    filename = fields.String()
    version_tag = fields.String(allow_none=True)
    sha256 = fields.String()
    deployment_id = fields.String()
    created_at = fields.DateTime()
    created_by = fields.String(allow_none=True)
    hit_policy = fields.String(attribute="summary.hit_policy", allow_none=True)
    inputs = fields.List(fields.Dict(), attribute="summary.inputs")
    outputs = fields.List(fields.String(allow_none=True), attribute="summary.outputs")
    rules = fields.Integer(attribute="summary.rules")
    required_decisions = fields.List(fields.String(), attribute="summary.required_decisions")


class DecisionListSchema(Schema):
    items = fields.List(fields.Nested(DecisionVersionSchema))


class EvaluateSchema(Schema):
    variables = fields.Dict(keys=fields.String(), load_default=dict)
    version = fields.Integer(load_default=None, metadata={"description": "default: the latest version"})


class EvaluationSchema(Schema):
    decision = fields.String()
    version = fields.Integer()
    decision_version_id = fields.String()
    matched_rules = fields.List(fields.String())
    inputs = fields.Dict()
    outputs = fields.List(fields.Dict(), metadata={"description": "one {output: value} per hit (or the aggregate)"})
    required = fields.List(fields.Dict(), metadata={"description": "the evaluations of required decisions"})


@blp.route("")
class DecisionCollection(MethodView):
    @requires("procedures.read")
    @blp.response(200, DecisionListSchema)
    def get(self) -> dict[str, Any]:
        """The latest version of each deployed decision."""
        return {"items": decisions.latest(engine(), principal=current_principal())}


@blp.route("/<key>")
class DecisionVersions(MethodView):
    @requires("procedures.read")
    @blp.response(200, DecisionListSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, key: str) -> dict[str, Any]:
        """Every version of one decision."""
        return {"items": decisions.versions(engine(), key, principal=current_principal())}


@blp.route("/<key>/evaluate")
class DecisionEvaluation(MethodView):
    @requires("procedures.read")
    @blp.arguments(EvaluateSchema)
    @blp.response(200, EvaluationSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(422, schema=ProblemSchema, description="the table has no valid answer for these inputs")
    def post(self, body: dict[str, Any], key: str) -> dict[str, Any]:
        """Evaluate a deployed decision on the given variables (nothing is stored): which rules matched, why."""
        return decisions.evaluate_deployed(engine(), key, body["variables"], version=body["version"],
                                           principal=current_principal())
