"""HTTP resource for deployments: several BPMN, DMN and form files deployed together, and their listing."""
from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError

from engine.errors import Invalid, Problem
from engine.services import deployment_deletion, deployments

from .auth import requires
from .extensions import engine
from .identity import current_principal
from .schemas.common import ProblemSchema
from .schemas.deployments import (
    DeploymentDeleteQuerySchema,
    DeploymentDeletionListSchema,
    DeploymentDeletionQuerySchema,
    DeploymentDeletionSchema,
    DeploymentFormSchema,
    DeploymentPageSchema,
    DeploymentQuerySchema,
    DeploymentSchema,
)

blp = Blueprint("deployments", __name__, url_prefix="/api/v1/deployments",
                description="Deployments (BPMN, DMN and form files deployed together)")


def _files() -> list[tuple[str, bytes]]:
    """Every file part of the multipart body, named by its file name (else its field name)."""
    if request.mimetype != "multipart/form-data":
        from werkzeug.exceptions import UnsupportedMediaType

        raise UnsupportedMediaType("send the files as multipart/form-data, one file part each")
    return [((upload.filename or field).strip(), upload.read())
            for field, upload in request.files.items(multi=True)]


def _options() -> dict[str, Any]:
    try:
        return dict(DeploymentFormSchema().load(request.form.to_dict()))
    except ValidationError as err:
        raise Invalid("the deployment's fields are invalid", [
            Problem(str(m[0] if isinstance(m, list) else m), field=f)
            for f, m in err.normalized_messages().items()]) from None


@blp.route("")
class DeploymentCollection(MethodView):
    @requires("procedures.read")
    @blp.arguments(DeploymentQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, DeploymentPageSchema)
    def get(self, **query: Any) -> dict[str, Any]:
        """Deployments, newest first, each with what it contained."""
        items, cursor = deployments.page(engine(), **query, principal=current_principal())
        return {"items": items, "next_cursor": cursor}

    @requires("procedures.upload")
    @blp.doc(requestBody={"content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
        "files": {"type": "array", "items": {"type": "string", "format": "binary"},
                  "description": "any number of file parts: .bpmn/.bpmn20.xml, .dmn/.dmn11.xml, .form"},
        "name": {"type": "string"}, "source": {"type": "string"},
        "duplicate_filtering": {"type": "boolean", "default": True}}}}}})
    @blp.response(201, DeploymentSchema, description="a new deployment was stored")
    @blp.alt_response(200, schema=DeploymentSchema,
                      description="nothing changed since the newest deployment of that name: that one")
    @blp.alt_response(413, schema=ProblemSchema, description="a file or the whole deployment is over its cap")
    @blp.alt_response(409, schema=ProblemSchema, description="a deployment of the same resources was being stored "
                                                         "at the same time; retry")
    @blp.alt_response(415, schema=ProblemSchema, description="not multipart")
    @blp.alt_response(422, schema=ProblemSchema,
                      description="a file is invalid or a reference unresolved: one entry per problem, naming "
                                  "the file, line, column and element; nothing is stored")
    def post(self) -> Any:
        """Deploy BPMN, DMN and form files together: all become versions, or none does."""
        files = _files()
        options = _options()
        row, created = deployments.deploy_files(engine(), files, **options, principal=current_principal())
        return row, 201 if created else 200


@blp.route("/<deployment_id>")
class DeploymentItem(MethodView):
    @requires("procedures.read")
    @blp.response(200, DeploymentSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, deployment_id: str) -> dict[str, Any]:
        """One deployment and what it contained."""
        return deployments.get(engine(), deployment_id, principal=current_principal())

    @requires("deployments.delete")
    @blp.arguments(DeploymentDeleteQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, DeploymentDeletionSchema, description="deleted: the deletion record (what went, who, when)")
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(409, schema=ProblemSchema,
                      description="refused, nothing changed: `refusals` [{kind, message}] names every reason (a "
                                  "version that entered review, live incidents, unfinished test incidents "
                                  "without cascade, a version another deployment lists, a decision or form "
                                  "an unfinished incident uses); `needs_cascade` when cascade=true would do")
    def delete(self, deployment_id: str, cascade: bool) -> dict[str, Any]:
        """Delete a deployment and the versions it created, all or nothing (docs/deployments.md, "Deleting").

        Only a deployment whose procedure versions are all still drafts may go; its finished test incidents
        go with it, its unfinished ones only with `cascade=true`. The deletion is recorded (GET
        /api/v1/deployment-deletions)."""
        return deployment_deletion.delete(engine(), deployment_id, cascade=cascade, principal=current_principal())


deletions_blp = Blueprint("deployment_deletions", __name__, url_prefix="/api/v1/deployment-deletions",
                          description="The record of deployments deleted")


@deletions_blp.route("")
class DeploymentDeletionCollection(MethodView):
    @requires("procedures.read")
    @deletions_blp.arguments(DeploymentDeletionQuerySchema, location="query", as_kwargs=True)
    @deletions_blp.response(200, DeploymentDeletionListSchema)
    def get(self, **query: Any) -> dict[str, Any]:
        """Deployments deleted, newest first: who deleted what, when, and how many test incidents went."""
        return {"items": deployment_deletion.deletions(engine(), **query, principal=current_principal())}
