"""Schemas of procedure versions and their user tasks and forms."""
from __future__ import annotations

from marshmallow import Schema, fields

from .checks import CheckSummarySchema
from .common import ProblemEntrySchema


class EnumOptionSchema(Schema):
    id = fields.String()
    name = fields.String(allow_none=True)


class FormFieldSchema(Schema):
    id = fields.String()
    label = fields.String(allow_none=True)
    type = fields.String(metadata={"description": "string, long, double, boolean, date or enum"})
    required = fields.Boolean()
    options = fields.List(fields.Nested(EnumOptionSchema))
    default = fields.Raw(allow_none=True)


class UserTaskSummarySchema(Schema):
    id = fields.String()
    name = fields.String(allow_none=True)
    lane = fields.String(allow_none=True)
    candidate_groups = fields.List(fields.String())
    candidate_users = fields.List(fields.String())
    assignee = fields.String(allow_none=True)
    documentation = fields.String(allow_none=True)
    form = fields.List(fields.Nested(FormFieldSchema))


class ProcedureSchema(Schema):
    key = fields.String()
    version = fields.Integer()
    name = fields.String(allow_none=True)
    status = fields.String()
    sha256 = fields.String()
    created_at = fields.DateTime()
    created_by = fields.String(allow_none=True)
    user_tasks = fields.List(fields.Nested(UserTaskSummarySchema), attribute="summary.user_tasks")
    lanes = fields.List(fields.String(), attribute="summary.lanes")
    properties = fields.Dict(attribute="summary.properties")
    warnings = fields.List(fields.Nested(ProblemEntrySchema), attribute="summary.warnings")
    checks = fields.List(fields.Nested(CheckSummarySchema), attribute="summary.checks",
                         metadata={"description": "the check gateways the version declares"})


class ProcedureListSchema(Schema):
    items = fields.List(fields.Nested(ProcedureSchema))


class UploadFormSchema(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary"}, required=True)
    process = fields.String(metadata={"description": "the executable process to deploy, when the file has several"})
