"""Schemas shared by several resources: problems, paging."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


class ProblemEntrySchema(Schema):
    message = fields.String(required=True)
    field = fields.String(allow_none=True)
    file = fields.String(allow_none=True, metadata={"description": "the deployment resource (file name) the problem is in"})
    line = fields.Integer(allow_none=True)
    column = fields.Integer(allow_none=True)
    element_id = fields.String(allow_none=True)
    rule = fields.String(allow_none=True)
    severity = fields.String(allow_none=True)
    path = fields.List(fields.String(), metadata={"description": "element ids from a start, for path rules"})


class ProblemSchema(Schema):
    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.List(fields.Nested(ProblemEntrySchema))


class PageQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    cursor = fields.String(load_default=None)


class PageSchema(Schema):
    next_cursor = fields.String(allow_none=True, metadata={"description": "pass as `cursor` for the next page"})
