"""Schemas of outbox deliveries and their attempts."""
from __future__ import annotations

from marshmallow import Schema, fields

DELIVERY_STATUSES = ("pending", "delivering", "delivered", "dead", "skipped")


class AttemptSchema(Schema):
    number = fields.Integer()
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    outcome = fields.String(metadata={"enum": ["in_flight", "delivered", "failed", "rejected", "skipped", "lost"]})
    http_status = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    worker = fields.String(allow_none=True)


class DeliverySchema(Schema):
    id = fields.String(metadata={"description": "also the Idempotency-Key header the receiver sees"})
    incident_id = fields.String()
    task_id = fields.String(allow_none=True)
    element_id = fields.String(allow_none=True)
    topic = fields.String()
    mode = fields.String(metadata={"enum": ["fire_and_forget", "wait"]})
    status = fields.String(metadata={"enum": list(DELIVERY_STATUSES)})
    attempt_count = fields.Integer()
    last_error = fields.String(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)
    attempts = fields.List(fields.Nested(AttemptSchema))


class DeliveryListSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema))
