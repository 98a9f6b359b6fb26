"""HTTP resource for Camunda Forms: the deployed `.form` versions and their schemas (for form-js)."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from engine.services import camunda_forms

from .auth import requires
from .extensions import engine
from .identity import current_principal
from .schemas.common import ProblemSchema

blp = Blueprint("forms", __name__, url_prefix="/api/v1/forms", description="Camunda Forms (.form files)")


class FormVersionSchema(Schema):
    id = fields.String()
    key = fields.String()
    version = fields.Integer()
    filename = fields.String()
    version_tag = fields.String(allow_none=True)
    deployment_id = fields.String()
    created_at = fields.DateTime()
    fields_ = fields.List(fields.String(), attribute="summary.fields", data_key="fields")


class FormListSchema(Schema):
    items = fields.List(fields.Nested(FormVersionSchema))


class FormSchema(Schema):
    id = fields.String()
    key = fields.String()
    version = fields.Integer()
    filename = fields.String()
    version_tag = fields.String(allow_none=True)
    deployment_id = fields.String()
    created_at = fields.DateTime()
    schema = fields.Dict(metadata={"description": "the form-js schema exactly as deployed"})


@blp.route("")
class FormCollection(MethodView):
    @requires("procedures.read")
    @blp.response(200, FormListSchema)
    def get(self) -> dict[str, Any]:
        """The latest version of each deployed form."""
        return {"items": camunda_forms.latest(engine(), principal=current_principal())}


@blp.route("/<key>")
class FormLatest(MethodView):
    @requires("procedures.read")
    @blp.response(200, FormSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, key: str) -> dict[str, Any]:
        """The latest version of a form, with its schema."""
        return camunda_forms.version(engine(), key, principal=current_principal())


@blp.route("/<key>/versions")
class FormVersions(MethodView):
    @requires("procedures.read")
    @blp.response(200, FormListSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, key: str) -> dict[str, Any]:
        """Every version of a form."""
        return {"items": camunda_forms.versions(engine(), key, principal=current_principal())}


@blp.route("/<key>/versions/<int:number>")
class FormVersion(MethodView):
    @requires("procedures.read")
    @blp.response(200, FormSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, key: str, number: int) -> dict[str, Any]:
        """One version of a form, with its schema."""
        return camunda_forms.version(engine(), key, number, principal=current_principal())
