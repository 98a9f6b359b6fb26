"""HTTP resources for colleagues' review of a procedure version: comments and their resolution."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from engine.services import comments

from .auth import requires
from .extensions import engine
from .identity import current_actor
from .schemas.common import ProblemSchema
from .schemas.governance import (
    CommentInSchema,
    CommentListSchema,
    CommentQuerySchema,
    CommentSchema,
    ResolveSchema,
)

blp = Blueprint("comments", __name__, url_prefix="/api/v1/procedures", description="Review comments")
COMMENTS = "/<key>/versions/<int:number>/comments"


@blp.route(COMMENTS)
class Comments(MethodView):
    @requires("procedures.read")
    @blp.arguments(CommentQuerySchema, location="query")
    @blp.response(200, CommentListSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, query: dict[str, Any], key: str, number: int) -> dict[str, Any]:
        """Review comments on the version, oldest first (optionally only open or resolved ones)."""
        return {"items": comments.page(engine(), key, number, status=query.get("status"))}

    @requires("comments.write")
    @blp.arguments(CommentInSchema)
    @blp.response(201, CommentSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(422, schema=ProblemSchema, description="no such BPMN element in this version")
    def post(self, body: dict[str, Any], key: str, number: int) -> dict[str, Any]:
        """Comment on the whole version, or on one BPMN element (`element_id`). Approval waits for it."""
        return comments.add(engine(), key, number, body=body["body"], element_id=body.get("element_id"),
                            actor=current_actor())


@blp.route(f"{COMMENTS}/<comment_id>/resolve")
class Resolve(MethodView):
    @requires("comments.write")
    @blp.arguments(ResolveSchema)
    @blp.response(200, CommentSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(409, schema=ProblemSchema, description="already resolved")
    def post(self, body: dict[str, Any], key: str, number: int, comment_id: str) -> dict[str, Any]:
        """Resolve a comment with a reply saying what was done about it."""
        return comments.resolve(engine(), key, number, comment_id, reply=body["reply"], actor=current_actor())
