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


class DeletedResourceSchema(DeployedResourceSchema):
    removed = fields.Boolean(metadata={"description": "its version went with the deployment (false: another "
                                                      "deployment's version, listed here unchanged)"})


class DeploymentDeletionSchema(Schema):
    id = fields.Integer(metadata={"description": "the deletion record's id"})
    deployment_id = fields.String()
    name = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    deployed_at = fields.DateTime()
    deployed_by = fields.String(allow_none=True)
    deleted_at = fields.DateTime()
    deleted_by = fields.String(allow_none=True)
    cascaded = fields.Boolean(metadata={"description": "deleted with cascade: its test incidents were purged"})
    resources = fields.List(fields.Nested(DeletedResourceSchema))
    removed_incidents = fields.Integer(metadata={"description": "test incidents purged with it"})


class DeploymentDeleteQuerySchema(Schema):
    cascade = fields.Boolean(load_default=False, metadata={
        "description": "also purge the unfinished test incidents of its versions (without it they refuse the "
                       "deletion; finished test incidents are purged either way)"})


class DeploymentDeletionListSchema(Schema):
    items = fields.List(fields.Nested(DeploymentDeletionSchema))


class DeploymentDeletionQuerySchema(Schema):
    deployment_id = fields.String(load_default=None)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
