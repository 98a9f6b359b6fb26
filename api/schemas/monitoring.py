"""Schemas of monitoring: window queries, metrics, criteria status, recommendations and debriefs."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from engine.safe_input import INT32_MAX

Seconds = fields.Float(allow_none=True)


def _pair(value: str) -> None:
    if ":" not in value or not value.split(":", 1)[0]:
        raise ValidationError("use key:value, for example priority:P1")


class WindowQuerySchema(Schema):
    since = fields.AwareDateTime(load_default=None, default_timezone=None,
                                 metadata={"description": "start of the window (default: 30 days before until)"})
    until = fields.AwareDateTime(load_default=None, default_timezone=None,
                                 metadata={"description": "end of the window, exclusive (default: now)"})


class MetricsQuerySchema(WindowQuerySchema):
    version = fields.Integer(load_default=None, validate=validate.Range(min=1, max=INT32_MAX))
    filter = fields.List(fields.String(validate=_pair), load_default=list,
                         metadata={"description": "incident data filter key:value, repeatable (priority:P1)"})


class CriteriaQuerySchema(WindowQuerySchema):
    objective = fields.String(load_default=None)
    margin = fields.Float(load_default=None, validate=validate.Range(min=0, max=1),
                          metadata={"description": "at-risk margin, a fraction of the target (default 0.1)"})


class RecommendationQuerySchema(WindowQuerySchema):
    version = fields.Integer(load_default=None, validate=validate.Range(min=1, max=INT32_MAX))


class StatsSchema(Schema):
    count = fields.Integer()
    p50, p90, p95, mean, max = Seconds, Seconds, Seconds, Seconds, Seconds


class IncidentCountsSchema(Schema):
    started = fields.Integer(metadata={"description": "incident_started events in the window"})
    completed = fields.Integer()
    cancelled = fields.Integer()
    in_error = fields.Integer(metadata={"description": "incidents that went into error in the window"})
    open = fields.Integer(metadata={"description": "running at the end of the window"})
    started_in_window = fields.Integer()
    started_and_completed = fields.Integer()
    completed_share = fields.Float(allow_none=True)


class VersionMetricsSchema(Schema):
    version = fields.Integer()
    incidents = fields.Nested(IncidentCountsSchema)
    cycle_time = fields.Nested(StatsSchema)


class TaskReworkSchema(Schema):
    incidents = fields.Integer()
    loops = fields.Integer()
    share = fields.Float(allow_none=True)


class TaskMetricsSchema(Schema):
    element_id = fields.String()
    name = fields.String(allow_none=True)
    lane = fields.String(allow_none=True)
    incidents = fields.Integer(metadata={"description": "incidents in which the task became ready"})
    instances = fields.Integer()
    completed = fields.Integer()
    wait = fields.Nested(StatsSchema, metadata={"description": "ready to claimed, seconds"})
    work = fields.Nested(StatsSchema, metadata={"description": "claimed to completed, seconds"})
    reached_after = fields.Nested(StatsSchema, metadata={"description": "incident start to ready, seconds"})
    wait_in_completed_incidents = fields.Float()
    wait_share = fields.Float(allow_none=True, metadata={"description": "share of cycle time spent waiting"})
    rework = fields.Nested(TaskReworkSchema)


class ReworkSchema(Schema):
    incidents = fields.Integer()
    loops = fields.Integer()
    incidents_with_rework = fields.Integer()
    per_incident = fields.Float(allow_none=True)
    max = fields.Integer(allow_none=True)


class CheckMetricsSchema(Schema):
    check = fields.String()
    gateway_id = fields.String()
    reached = fields.Integer()
    first_time_passed = fields.Integer()
    first_time_pass_rate = fields.Float(allow_none=True)
    evaluations = fields.Integer()
    failures = fields.Integer()
    overrides = fields.Integer()
    before = fields.List(fields.String())


class SlaMetricsSchema(Schema):
    element_id = fields.String()
    name = fields.String(allow_none=True)
    task = fields.String(allow_none=True)
    lane = fields.String(allow_none=True)
    breaches = fields.Integer()
    incidents_breached = fields.Integer()
    armed = fields.Integer(allow_none=True)
    breach_share = fields.Float(allow_none=True)
    late_by = fields.Nested(StatsSchema)


class FlowMetricsSchema(Schema):
    flow = fields.String()
    target = fields.String()
    name = fields.String(allow_none=True)
    taken = fields.Integer()


class GatewayMetricsSchema(Schema):
    element_id = fields.String()
    reached = fields.Integer()
    flows = fields.List(fields.Nested(FlowMetricsSchema))


class LaneMetricsSchema(Schema):
    lane = fields.String(allow_none=True)
    open = fields.Integer()
    open_at_start = fields.Integer()
    arrived = fields.Integer()
    drained = fields.Integer()
    oldest_age = Seconds
    median_age = Seconds


class MetricsSchema(Schema):
    procedure = fields.String()
    since = fields.DateTime()
    until = fields.DateTime()
    version = fields.Integer(allow_none=True)
    filter = fields.Dict()
    incidents = fields.Nested(IncidentCountsSchema)
    cycle_time = fields.Nested(StatsSchema)
    versions = fields.List(fields.Nested(VersionMetricsSchema))
    tasks = fields.List(fields.Nested(TaskMetricsSchema))
    rework = fields.Nested(ReworkSchema)
    checks = fields.List(fields.Nested(CheckMetricsSchema))
    sla = fields.List(fields.Nested(SlaMetricsSchema))
    gateways = fields.List(fields.Nested(GatewayMetricsSchema))
    lanes = fields.List(fields.Nested(LaneMetricsSchema))


class CriterionStatusSchema(Schema):
    criterion_id = fields.Raw(allow_none=True)
    objective_id = fields.Raw(allow_none=True)
    name = fields.String(allow_none=True)
    procedure = fields.String(allow_none=True)
    metric = fields.String(allow_none=True)
    statistic = fields.String(allow_none=True)
    comparator = fields.String(allow_none=True)
    filter = fields.Dict()
    status = fields.String(metadata={"enum": ["met", "at_risk", "missed", "not_enough_data"]})
    value = fields.Float(allow_none=True)
    target = fields.Float(allow_none=True, metadata={"description": "seconds for durations"})
    sample_size = fields.Integer()
    element_id = fields.String(allow_none=True)
    reason = fields.String()


class CriteriaStatusSchema(Schema):
    objective = fields.String(allow_none=True)
    since = fields.DateTime()
    until = fields.DateTime()
    margin = fields.Float()
    items = fields.List(fields.Nested(CriterionStatusSchema))


class RecommendationSchema(Schema):
    rank = fields.Integer()
    rule = fields.String()
    score = fields.Float()
    title = fields.String()
    message = fields.String()
    element_id = fields.String(allow_none=True, metadata={"description": "the BPMN element it concerns"})
    evidence = fields.Dict(metadata={"description": "the figures, the window and the sample size"})


class RecommendationListSchema(Schema):
    procedure = fields.String()
    since = fields.DateTime()
    until = fields.DateTime()
    version = fields.Integer(allow_none=True)
    items = fields.List(fields.Nested(RecommendationSchema))
    none_because = fields.String(allow_none=True, metadata={
        "description": "when `items` is empty, why: too few observations for any rule, or nothing found"})
