"""Schemas of check status, overrides, adherence figures and lint findings."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.safe_input import INT32_MAX


class CheckOverrideEntrySchema(Schema):
    actor = fields.String(allow_none=True)
    reason = fields.String()
    at = fields.DateTime()
    attempt = fields.Integer()


class IncidentCheckSchema(Schema):
    check = fields.String()
    gateway_id = fields.String()
    outcome = fields.String(metadata={"enum": ["passed", "failed", "overridden"]})
    attempts = fields.Integer(metadata={"description": "evaluations of the check (overrides not counted)"})
    passed_first_time = fields.Boolean()
    category = fields.String(metadata={"enum": ["passed_first_time", "failed_then_passed", "overridden",
                                                "still_failing"]})
    first_at = fields.DateTime()
    last_at = fields.DateTime()
    values = fields.Dict(allow_none=True, metadata={"description": "what the condition read, last time"})
    overrides = fields.List(fields.Nested(CheckOverrideEntrySchema))


class IncidentCheckListSchema(Schema):
    items = fields.List(fields.Nested(IncidentCheckSchema))


class OverrideSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class CheckFiguresSchema(Schema):
    check = fields.String()
    reached = fields.Integer()
    passed_first_time = fields.Integer()
    failed_then_passed = fields.Integer()
    overridden = fields.Integer()
    still_failing = fields.Integer()


class VersionAdherenceSchema(Schema):
    version = fields.Integer()
    checks = fields.List(fields.Nested(CheckFiguresSchema))


class AdherenceSchema(Schema):
    procedure = fields.String()
    since = fields.DateTime(allow_none=True)
    versions = fields.List(fields.Nested(VersionAdherenceSchema))


class AdherenceQuerySchema(Schema):
    since = fields.AwareDateTime(load_default=None, default_timezone=None)
    version = fields.Integer(load_default=None, validate=validate.Range(min=1, max=INT32_MAX))


class FindingSchema(Schema):
    rule = fields.String()
    severity = fields.String(metadata={"enum": ["error", "warning"]})
    element_id = fields.String(allow_none=True)
    message = fields.String()
    path = fields.List(fields.String(), allow_none=True)
    line = fields.Integer(allow_none=True)


class LintSchema(Schema):
    procedure = fields.String()
    version = fields.Integer()
    errors = fields.Integer()
    warnings = fields.Integer()
    findings = fields.List(fields.Nested(FindingSchema))


class CheckSummarySchema(Schema):
    check = fields.String()
    gateway_id = fields.String()
    pass_flow = fields.String(allow_none=True)
    fail_flow = fields.String(allow_none=True)
    names = fields.List(fields.String())
    required = fields.Boolean()
