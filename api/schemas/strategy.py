"""Schemas of strategies, objectives and agreed criteria."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engine.errors import Invalid
from engine.governance import criteria as rules

from .common import PageQuerySchema, PageSchema

_STATISTICS = sorted({s for m in rules.METRICS.values() for s in m.statistics})


class StrategyCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    aim = fields.String(load_default=None, validate=validate.Length(max=10_000),
                        metadata={"description": "what the strategy aims at, in the organisation's words"})


class CriterionCreateSchema(Schema):
    objective_id = fields.String(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    description = fields.String(load_default=None, validate=validate.Length(max=10_000))
    metric = fields.String(required=True, validate=validate.OneOf(list(rules.METRICS)))
    statistic = fields.String(required=True, validate=validate.OneOf(_STATISTICS))
    comparator = fields.String(required=True, validate=validate.OneOf(rules.COMPARATORS))
    target = fields.Raw(required=True, metadata={"description": "a number (share, rate) or an ISO 8601 duration"})
    params = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict,
                         metadata={"description": "the BPMN element: {task: id}, {check: name} or {timer: id}"})
    filter = fields.Dict(keys=fields.String(), load_default=dict,
                         metadata={"description": "incident data the criterion is about, e.g. {priority: P1}"})
    procedure_key = fields.String(load_default=None, validate=validate.Length(min=1, max=255))

    @validates_schema
    def _fits_the_metric(self, data: dict[str, Any], **_kwargs: Any) -> None:
        try:
            rules.validate(data)
        except Invalid as err:
            raise ValidationError({p.field or "_schema": [p.message] for p in err.problems}) from err


class CriterionSchema(Schema):
    id = fields.String()
    objective_id = fields.String()
    name = fields.String()
    description = fields.String(allow_none=True)
    metric = fields.String()
    statistic = fields.String()
    comparator = fields.String()
    target = fields.Raw()
    params = fields.Dict()
    filter = fields.Dict()
    procedure_key = fields.String(allow_none=True)
    text = fields.String(metadata={"description": "the criterion as one sentence"})
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()


class ObjectiveCreateSchema(Schema):
    strategy_id = fields.String(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    description = fields.String(load_default=None, validate=validate.Length(max=10_000))


class ObjectiveSummarySchema(Schema):
    id = fields.String()
    strategy_id = fields.String()
    name = fields.String()
    description = fields.String(allow_none=True)
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()


class ObjectiveSchema(ObjectiveSummarySchema):
    criteria = fields.List(fields.Nested(CriterionSchema))


class StrategySummarySchema(Schema):
    id = fields.String()
    name = fields.String()
    aim = fields.String(allow_none=True)
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()


class StrategySchema(StrategySummarySchema):
    objectives = fields.List(fields.Nested(ObjectiveSummarySchema), metadata={"description": "on a single strategy"})


class StrategyPageSchema(PageSchema):
    items = fields.List(fields.Nested(StrategySummarySchema))


class ObjectiveQuerySchema(PageQuerySchema):
    strategy_id = fields.String(load_default=None)


class ObjectivePageSchema(PageSchema):
    items = fields.List(fields.Nested(ObjectiveSummarySchema))


class CriterionQuerySchema(PageQuerySchema):
    objective_id = fields.String(load_default=None)
    procedure_key = fields.String(load_default=None)


class CriterionPageSchema(PageSchema):
    items = fields.List(fields.Nested(CriterionSchema))


class MetricSchema(Schema):
    name = fields.String()
    description = fields.String()
    unit = fields.String()
    statistics = fields.List(fields.String())
    parameter = fields.String(allow_none=True)
    parameter_required = fields.Boolean()


class MetricListSchema(Schema):
    items = fields.List(fields.Nested(MetricSchema))
