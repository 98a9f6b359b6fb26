"""Schemas of a version's declaration, lifecycle actions and state, review comments and the briefing."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.governance.lifecycle import ACTIONS, STATUSES
from engine.safe_input import INT32_MAX


class DeclarationInSchema(Schema):
    """Fields left out keep their value."""

    objectives = fields.List(fields.String(),
                             metadata={"description": "ids of the objectives this version serves (replaces the list)"})
    peak_incidents_per_hour = fields.Integer(validate=validate.Range(min=1, max=1_000_000))
    peak_agents = fields.Integer(validate=validate.Range(min=1, max=10_000))


class DeclarationSchema(Schema):
    key = fields.String()
    version = fields.Integer()
    status = fields.String(metadata={"enum": list(STATUSES)})
    objectives = fields.List(fields.String())
    peak_incidents_per_hour = fields.Integer(allow_none=True)
    peak_agents = fields.Integer(allow_none=True)
    updated_by = fields.String(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)


class ReasonSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class NoteSchema(Schema):
    note = fields.String(load_default=None, validate=validate.Length(max=5000))


class UnmetSchema(Schema):
    code = fields.String()
    message = fields.String()


class ProcedureEventSchema(Schema):
    id = fields.Integer()
    action = fields.String(metadata={"enum": [*ACTIONS, "declare"]})
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    actor = fields.String(allow_none=True)
    at = fields.DateTime()
    data = fields.Raw(allow_none=True)


class GovernanceSchema(Schema):
    key = fields.String()
    version = fields.Integer()
    status = fields.String(metadata={"enum": list(STATUSES)})
    allowed_actions = fields.List(fields.String())
    approval_blockers = fields.List(fields.Nested(UnmetSchema))
    comments_open = fields.Integer()
    scenario_tests = fields.Dict(metadata={
        "description": "the current scenario suite, its newest run (status, passed, failed, coverage totals, "
                       "uncovered flows) and the flows declared not testable with their reasons"})
    simulations = fields.List(fields.Dict(), metadata={
        "description": "what-if simulations attached as evidence: window, agents, each criterion's prediction"})
    events = fields.List(fields.Nested(ProcedureEventSchema))
    briefing = fields.Dict(metadata={"description": "after activation only"})


class BriefingQuerySchema(Schema):
    version = fields.Integer(load_default=None, validate=validate.Range(min=1, max=INT32_MAX),
                             metadata={"description": "the briefing of this version's activation (default: active)"})
    format = fields.String(load_default=None, validate=validate.OneOf(("json", "markdown")),
                           metadata={"description": "markdown answers text/markdown (so does Accept: text/markdown)"})


class BriefingSchema(Schema):
    procedure = fields.Dict()
    previous_version = fields.Integer(allow_none=True)
    activated_at = fields.String()
    activated_by = fields.String(allow_none=True)
    audience = fields.List(fields.String(), metadata={"description": "lanes and candidate groups briefed"})
    objectives = fields.List(fields.Dict())
    required_checks = fields.List(fields.String())
    changes = fields.Dict(metadata={"description": "tasks, checks and timers added, removed or changed"})
    change_count = fields.Integer()
    markdown = fields.String()


class CommentInSchema(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=10_000))
    element_id = fields.String(load_default=None, validate=validate.Length(min=1, max=255),
                               metadata={"description": "the BPMN element commented on (default: the whole version)"})


class CommentQuerySchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(("open", "resolved")))


class ResolveSchema(Schema):
    reply = fields.String(required=True, validate=validate.Length(min=1, max=10_000))


class CommentSchema(Schema):
    id = fields.String()
    element_id = fields.String(allow_none=True)
    body = fields.String()
    author = fields.String(allow_none=True)
    created_at = fields.DateTime()
    status = fields.String(metadata={"enum": ["open", "resolved"]})
    reply = fields.String(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)


class CommentListSchema(Schema):
    items = fields.List(fields.Nested(CommentSchema))
