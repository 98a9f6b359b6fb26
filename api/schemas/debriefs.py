"""Schema of a major incident's debrief record."""
from __future__ import annotations

from marshmallow import Schema, fields

from .incidents import AuditSchema


class DebriefQuerySchema(Schema):
    format = fields.String(load_default=None, metadata={"enum": ["json", "markdown"], "description":
                           "markdown for text/markdown (or send Accept: text/markdown)"})


class DebriefIncidentSchema(Schema):
    id = fields.String()
    reference = fields.String(allow_none=True)
    procedure = fields.String()
    version = fields.Integer()
    status = fields.String()
    priority = fields.String(allow_none=True)
    summary = fields.String(allow_none=True)
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    duration_s = fields.Float(allow_none=True)


class TimelineEntrySchema(AuditSchema):
    """One audited transition, as in the audit trail (ids the debrief does not carry are left out)."""


class CheckEventSchema(Schema):
    at = fields.DateTime()
    check = fields.String(allow_none=True)
    gateway_id = fields.String(allow_none=True)
    attempt = fields.Integer(allow_none=True)
    values = fields.Raw(allow_none=True)
    actor = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class SlaBreachSchema(Schema):
    at = fields.DateTime()
    element_id = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    task = fields.String(allow_none=True)
    due_at = fields.Raw(allow_none=True)
    fired_at = fields.Raw(allow_none=True)
    late_by = fields.Float(allow_none=True)


class ParticipantSchema(Schema):
    actor = fields.String()
    transitions = fields.Integer()
    tasks_completed = fields.List(fields.String())
    first_at = fields.DateTime()
    last_at = fields.DateTime()


class PhaseSchema(Schema):
    element_id = fields.String()
    name = fields.String(allow_none=True)
    lane = fields.String(allow_none=True)
    ready_at = fields.DateTime()
    ended_at = fields.DateTime()
    outcome = fields.String()
    actor = fields.String(allow_none=True)
    duration_s = fields.Float(allow_none=True)


class LaneTimeSchema(Schema):
    lane = fields.String()
    duration_s = fields.Float()


class ActionSchema(Schema):
    action = fields.String()
    owner = fields.String(allow_none=True)
    due = fields.Raw(allow_none=True)


class DebriefOutcomeSchema(Schema):
    lessons_learned = fields.String(allow_none=True)
    actions = fields.List(fields.Nested(ActionSchema))
    recorded_at = fields.DateTime(allow_none=True)
    recorded_by = fields.String(allow_none=True)
    element_id = fields.String(allow_none=True)


class DebriefSchema(Schema):
    incident = fields.Nested(DebriefIncidentSchema)
    major = fields.Boolean()
    major_because = fields.String(allow_none=True)
    debrief = fields.Nested(DebriefOutcomeSchema, metadata={"description": "what the debrief task recorded"})
    phases = fields.List(fields.Nested(PhaseSchema))
    lanes = fields.List(fields.Nested(LaneTimeSchema))
    checks_failed = fields.List(fields.Nested(CheckEventSchema))
    overrides = fields.List(fields.Nested(CheckEventSchema))
    sla_breaches = fields.List(fields.Nested(SlaBreachSchema))
    participants = fields.List(fields.Nested(ParticipantSchema))
    timeline = fields.List(fields.Nested(TimelineEntrySchema))
    snapshot_at = fields.DateTime(allow_none=True, metadata={"description": "when the completion snapshot was kept"})
