"""Schemas of fitness tests: the request and the stored report."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from engine.calendar import parse_duration


class DurationSeconds(fields.Field):
    """Whole seconds, given as a number or an ISO 8601 duration (`PT45S`, `PT10M`)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise ValidationError("a number of seconds or an ISO 8601 duration")
        if isinstance(value, int | float):
            return int(value)
        try:
            start = datetime(2000, 1, 1, tzinfo=UTC)
            return int((parse_duration(str(value), start) - start).total_seconds())
        except ValueError as err:
            raise ValidationError("a number of seconds or an ISO 8601 duration such as PT1M") from err


class FitnessRequestSchema(Schema):
    incidents_per_hour = fields.Integer(load_default=None, validate=validate.Range(min=1, max=1_000_000),
                                        metadata={"description": "default: the declared peak"})
    agents = fields.Integer(load_default=None, validate=validate.Range(min=1, max=500),
                            metadata={"description": "default: the declared peak agents"})
    duration = DurationSeconds(load_default=None, validate=validate.Range(min=5, max=3600),
                               metadata={"type": "string", "example": "PT1M",
                                         "description": "seconds or ISO 8601; default FITNESS_DEFAULT_DURATION"})


class FitnessTestSchema(Schema):
    id = fields.String()
    procedure = fields.String(attribute="procedure_key")
    version = fields.Integer(attribute="procedure_version")
    sha256 = fields.String()
    incidents_per_hour = fields.Integer()
    agents = fields.Integer()
    duration_s = fields.Integer()
    status = fields.String(metadata={"enum": ["queued", "running", "passed", "failed", "error"]})
    progress = fields.Dict(allow_none=True, metadata={"description": "phase, elapsed_s, requests, failures"})
    report = fields.Dict(allow_none=True, metadata={
        "description": "incidents, tasks (completions/s), endpoints (p50/p95/p99), failures, server peak memory, "
                       "thresholds, passed and reasons"})
    error = fields.String(allow_none=True)
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


class FitnessTestListSchema(Schema):
    items = fields.List(fields.Nested(FitnessTestSchema))
