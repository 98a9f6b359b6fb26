"""HTTP resources for a procedure version's governance: declaration, lifecycle actions, state and briefing."""
from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from engine.services import activation, approval, governance

from .auth import requires
from .extensions import engine
from .identity import current_actor, current_principal
from .schemas.common import ProblemSchema
from .schemas.governance import (
    BriefingQuerySchema,
    BriefingSchema,
    DeclarationInSchema,
    DeclarationSchema,
    GovernanceSchema,
    NoteSchema,
    ReasonSchema,
)

blp = Blueprint("governance", __name__, url_prefix="/api/v1/procedures",
                description="Procedure governance: declaration, review lifecycle, approval, activation")
VERSION = "/<key>/versions/<int:number>"


@blp.route(f"{VERSION}/declaration")
class Declaration(MethodView):
    @requires("procedures.read")
    @blp.response(200, DeclarationSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, key: str, number: int) -> dict[str, Any]:
        """The objectives the version serves and its declared peak volume."""
        return governance.get_declaration(engine(), key, number)

    @requires("procedures.govern")
    @blp.arguments(DeclarationInSchema)
    @blp.response(200, DeclarationSchema)
    @blp.alt_response(409, schema=ProblemSchema, description="the version is no longer a draft")
    @blp.alt_response(422, schema=ProblemSchema)
    def put(self, body: dict[str, Any], key: str, number: int) -> dict[str, Any]:
        """Declare objectives and peak volume (draft only); fields left out keep their value."""
        return governance.declare(engine(), key, number, body, actor=current_actor(), principal=current_principal())

    @requires("procedures.govern")
    @blp.arguments(DeclarationInSchema)
    @blp.response(200, DeclarationSchema)
    @blp.alt_response(409, schema=ProblemSchema)
    @blp.alt_response(422, schema=ProblemSchema)
    def patch(self, body: dict[str, Any], key: str, number: int) -> dict[str, Any]:
        """Same as PUT."""
        return governance.declare(engine(), key, number, body, actor=current_actor(), principal=current_principal())


@blp.route(f"{VERSION}/governance")
class State(MethodView):
    @requires("procedures.read")
    @blp.response(200, GovernanceSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, key: str, number: int) -> dict[str, Any]:
        """Status, allowed actions, what still blocks approval, and every lifecycle event with its actor."""
        return governance.status(engine(), key, number)


def _action(name: str, doc: str, permission: str) -> type[MethodView]:
    class Action(MethodView):
        @requires(permission)
        @blp.response(200, GovernanceSchema)
        @blp.alt_response(404, schema=ProblemSchema)
        @blp.alt_response(409, schema=ProblemSchema, description="not allowed from the current status")
        def post(self, key: str, number: int) -> dict[str, Any]:
            return governance.act(engine(), key, number, name, actor=current_actor(), principal=current_principal())

    Action.post.__doc__ = doc
    Action.__name__ = f"Action_{name}"
    return Action


blp.route(f"{VERSION}/submit")(_action("submit", "Submit a draft for review (draft -> in_review).", "procedures.govern"))
blp.route(f"{VERSION}/retire")(_action("retire", "Retire the active version (no version is active afterwards).",
                                                   "procedures.activate"))


@blp.route(f"{VERSION}/reject")
class Reject(MethodView):
    @requires("procedures.approve")
    @blp.arguments(ReasonSchema)
    @blp.response(200, GovernanceSchema)
    @blp.alt_response(409, schema=ProblemSchema)
    def post(self, body: dict[str, Any], key: str, number: int) -> dict[str, Any]:
        """Reject a version in review or tested, with a reason (final)."""
        return governance.act(engine(), key, number, "reject", actor=current_actor(), principal=current_principal(), reason=body["reason"])


@blp.route(f"{VERSION}/approve")
class Approve(MethodView):
    @requires("procedures.approve")
    @blp.arguments(NoteSchema)
    @blp.response(200, GovernanceSchema)
    @blp.alt_response(403, schema=ProblemSchema, description="the approver uploaded this version")
    @blp.alt_response(409, schema=ProblemSchema, description="`unmet` lists every condition not met")
    def post(self, body: dict[str, Any], key: str, number: int) -> dict[str, Any]:
        """Approve a tested version: no lint errors, no open comment, an objective, a passing fitness test at peak."""
        return approval.approve(engine(), key, number, actor=current_actor(), principal=current_principal(), note=body.get("note"))


@blp.route(f"{VERSION}/activate")
class Activate(MethodView):
    @requires("procedures.activate")
    @blp.response(200, GovernanceSchema)
    @blp.alt_response(409, schema=ProblemSchema)
    def post(self, key: str, number: int) -> dict[str, Any]:
        """Make an approved version the active one (the previous one retires) and brief every lane and group."""
        return activation.activate(engine(), key, number, actor=current_actor(), principal=current_principal())


@blp.route("/<key>/briefing")
class Briefing(MethodView):
    @blp.arguments(BriefingQuerySchema, location="query")
    @blp.response(200, BriefingSchema, content_type="application/json")
    @blp.alt_response(404, schema=ProblemSchema, description="no active version, or never activated")
    @blp.doc(responses={"200": {"description": "the briefing", "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Briefing"}},
        "text/markdown": {"schema": {"type": "string"}}}}})
    @requires("procedures.read")
    def get(self, query: dict[str, Any], key: str) -> Any:
        """The briefing sent when the active version went live: JSON, or Markdown (?format=markdown or Accept)."""
        found = activation.get_briefing(engine(), key, query.get("version"))
        accept = request.accept_mimetypes
        wants_markdown = query.get("format") == "markdown" or (
            query.get("format") is None and accept.best_match(["application/json", "text/markdown"]) == "text/markdown"
            and accept["text/markdown"] > accept["application/json"])
        if wants_markdown:
            return Response(found["markdown"], mimetype="text/markdown")
        return found
