"""Schemas of scenario tests: a version's suite, and a run with its results and coverage."""
from __future__ import annotations

from marshmallow import Schema, fields


class NotTestableSchema(Schema):
    flow = fields.String()
    reason = fields.String()
    line = fields.Integer(allow_none=True)


class ScenarioSuiteSchema(Schema):
    id = fields.String()
    key = fields.String()
    version = fields.Integer()
    sha256 = fields.String(metadata={"description": "of the file's bytes"})
    format = fields.String(metadata={"enum": ["yaml", "json"]})
    source = fields.String(metadata={"description": "the file as uploaded"})
    procedure = fields.String(allow_none=True)
    scenarios = fields.List(fields.Dict(), metadata={"description": "name and line of each scenario"})
    not_testable = fields.List(fields.Nested(NotTestableSchema))
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()


class ScenarioRunSchema(Schema):
    id = fields.String()
    key = fields.String()
    version = fields.Integer()
    sha256 = fields.String(metadata={"description": "of the version's BPMN"})
    suite_id = fields.String()
    suite_sha256 = fields.String()
    status = fields.String(metadata={"enum": ["passed", "failed"]})
    passed = fields.Integer()
    failed = fields.Integer()
    seconds = fields.Float()
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    coverage_totals = fields.Dict(metadata={"description": "flows, branches, boundary events, check outcomes"})
    scenarios = fields.List(fields.Dict(), metadata={
        "description": "per scenario: name, passed, failure (step, line, message, expected, actual), "
                       "path taken, checks, the audit it would have written"})
    coverage = fields.Dict(metadata={
        "description": "flows, gateway_branches, boundary_events, check_outcomes (covered or not, by which "
                       "scenarios), uncovered_flows, totals"})
    not_testable = fields.List(fields.Nested(NotTestableSchema))


class ScenarioRunListSchema(Schema):
    items = fields.List(fields.Nested(ScenarioRunSchema))
