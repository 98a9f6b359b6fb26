"""Schemas of deployments: the files deployed together and what each one brought."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from .common import PageQuerySchema, PageSchema


class DeployedResourceSchema(Schema):
    filename = fields.String()
    kind = fields.String(metadata={"description": "process, decision or form"})
    key = fields.String(metadata={"description": "process id, decision id or form id"})
    id = fields.String(metadata={"description": "the version's id"})
    version = fields.Integer()
    name = fields.String(allow_none=True)
    sha256 = fields.String()
    status = fields.String(metadata={"description": "created (a new version) or unchanged (same bytes as an "
                                                    "existing version, which is reused)"})


class DeploymentSchema(Schema):
    id = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    created_at = fields.DateTime()
    created_by = fields.String(allow_none=True)
    resources = fields.List(fields.Nested(DeployedResourceSchema))


class DeploymentPageSchema(PageSchema):
    items = fields.List(fields.Nested(DeploymentSchema))


class DeploymentQuerySchema(PageQuerySchema):
    name = fields.String(load_default=None)
    source = fields.String(load_default=None)


class DeploymentFormSchema(Schema):
    name = fields.String(load_default=None, validate=validate.Length(max=255))
    source = fields.String(load_default=None, validate=validate.Length(max=255))
    duplicate_filtering = fields.Boolean(load_default=True)
