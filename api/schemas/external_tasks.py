"""Schemas of the external-task resource (pull workers) on /api/v1."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.safe_input import INT32_MAX


class ExternalTaskSchema(Schema):
    id = fields.String()
    incident_id = fields.String()
    procedure = fields.String(attribute="procedure_key")
    version = fields.Integer(attribute="procedure_version")
    reference = fields.String(allow_none=True)
    element_id = fields.String()
    element_name = fields.String(allow_none=True)
    topic = fields.String()
    state = fields.String(metadata={"description": "open, failed (no retries left), completed or cancelled"})
    worker_id = fields.String(allow_none=True)
    lock_expires_at = fields.DateTime(allow_none=True)
    retries = fields.Integer(allow_none=True)
    available_at = fields.DateTime(allow_none=True)
    error_message = fields.String(allow_none=True)
    priority = fields.Integer()
    created_at = fields.DateTime()


class LockedExternalTaskSchema(ExternalTaskSchema):
    variables = fields.Dict(keys=fields.String())
    properties = fields.Dict(keys=fields.String(), values=fields.String())


class ExternalTaskListSchema(Schema):
    items = fields.List(fields.Nested(ExternalTaskSchema))


class LockedListSchema(Schema):
    items = fields.List(fields.Nested(LockedExternalTaskSchema))


class ExternalTaskQuerySchema(Schema):
    topic = fields.String(load_default=None)
    incident = fields.String(load_default=None)
    worker_id = fields.String(load_default=None)


class TopicSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    lock_ms = fields.Integer(required=True, validate=validate.Range(min=1, max=INT32_MAX))
    variables = fields.List(fields.String(), load_default=None)
    properties = fields.Boolean(load_default=True, metadata={"description": "include extension properties"})


class FetchSchema(Schema):
    worker_id = fields.String(required=True, validate=validate.Length(min=1, max=255))
    topics = fields.List(fields.Nested(TopicSchema), required=True, validate=validate.Length(min=1))
    max_tasks = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100))
    wait_ms = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_800_000),
                             metadata={"description": "long poll: wait this long for a task when none is there"})


class WorkerSchema(Schema):
    worker_id = fields.String(required=True, validate=validate.Length(min=1, max=255))


class FinishSchema(WorkerSchema):
    data = fields.Dict(keys=fields.String(), load_default=dict)


class FailureReportSchema(WorkerSchema):
    message = fields.String(load_default=None)
    details = fields.String(load_default=None)
    retries = fields.Integer(required=True, validate=validate.Range(min=0, max=INT32_MAX))
    retry_after_ms = fields.Integer(load_default=0, validate=validate.Range(min=0, max=INT32_MAX))


class BpmnErrorSchema(FinishSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=255))
    message = fields.String(load_default=None)


class ExtendSchema(WorkerSchema):
    lock_ms = fields.Integer(required=True, validate=validate.Range(min=1, max=INT32_MAX))


class RetriesSchema(Schema):
    retries = fields.Integer(required=True, validate=validate.Range(min=0, max=INT32_MAX))
