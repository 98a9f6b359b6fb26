"""Schemas of message correlation and signal broadcast."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .incidents import IncidentSchema

NAME = validate.Length(min=1, max=255)


class MessageSchema(Schema):
    name = fields.String(required=True, validate=NAME,
                         metadata={"description": "the message name (bpmn:message name) the procedure waits for"})
    reference = fields.String(load_default=None, validate=NAME,
                              metadata={"description": "the incident's business reference (Camunda's businessKey)"})
    correlation = fields.Dict(keys=fields.String(), load_default=None,
                              metadata={"description": 'variable equalities the incident must have, e.g. '
                                                       '{"case_id": "C-77"} (strings, numbers, booleans)'})
    variables = fields.Dict(keys=fields.String(), load_default=None,
                            metadata={"description": "variables the message sets in the incident"})
    all = fields.Boolean(load_default=False,
                         metadata={"description": "deliver to every match (and start on every message start "
                                                  "event) instead of exactly one"})
    incident_id = fields.String(load_default=None, validate=NAME,
                                metadata={"description": "only this incident's waits (no message start event is "
                                                         "considered); Camunda's processInstanceId"})
    starts_only = fields.Boolean(load_default=False,
                                 metadata={"description": "only message start events, never a waiting incident; "
                                                          "Camunda's startMessagesOnly"})

    @validates_schema
    def _one_way(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("starts_only") and data.get("incident_id"):
            raise ValidationError("starts_only and incident_id exclude each other", "starts_only")


class CorrelationResultSchema(Schema):
    incident = fields.Nested(IncidentSchema)
    element_id = fields.String(metadata={"description": "the BPMN element that caught the message (or the "
                                                        "message start event the incident began at)"})
    started = fields.Boolean(metadata={"description": "true when the message started this incident"})


class CorrelationSchema(Schema):
    message = fields.String()
    results = fields.List(fields.Nested(CorrelationResultSchema))


class SignalSchema(Schema):
    name = fields.String(required=True, validate=NAME,
                         metadata={"description": "the signal name (bpmn:signal name) incidents wait for"})
    variables = fields.Dict(keys=fields.String(), load_default=None,
                            metadata={"description": "variables the signal sets in every incident it reaches"})


class BroadcastSchema(Schema):
    signal = fields.String()
    id = fields.String(metadata={"description": "the broadcast (its batches are audited with this id)"})
    reached = fields.Integer(metadata={"description": "waiting incidents that caught the signal"})
    started = fields.Integer(metadata={"description": "incidents started by a signal start event"})
    batches = fields.Integer(metadata={"description": "transactions the delivery took"})
    batch_size = fields.Integer(metadata={"description": "waits per transaction (SIGNAL_BATCH)"})


class TriggerSchema(Schema):
    element_id = fields.String(required=True, validate=NAME,
                               metadata={"description": "the receive task (without a message) the incident waits at"})
    variables = fields.Dict(keys=fields.String(), load_default=None,
                            metadata={"description": "variables to set as it moves on"})


class ConditionSchema(Schema):
    variables = fields.Dict(keys=fields.String(), load_default=None,
                            metadata={"description": "the variables the conditions are evaluated over; each "
                                                     "incident started gets them as its data"})
    procedure = fields.String(load_default=None, validate=NAME,
                              metadata={"description": "only this procedure's conditional start events "
                                                       "(Camunda's processDefinitionId)"})
    reference = fields.String(load_default=None, validate=NAME,
                              metadata={"description": "the business reference of the incidents started"})


class ConditionStartSchema(Schema):
    incident = fields.Nested(IncidentSchema)
    procedure = fields.String()
    element_id = fields.String(metadata={"description": "the conditional start event it started at"})


class ConditionSkipSchema(Schema):
    procedure = fields.String()
    element_id = fields.String()
    reason = fields.String(metadata={"description": "why its condition could not be evaluated (counted as false)"})


class ConditionResultSchema(Schema):
    started = fields.List(fields.Nested(ConditionStartSchema))
    skipped = fields.List(fields.Nested(ConditionSkipSchema))


class VariablesSchema(Schema):
    variables = fields.Dict(keys=fields.String(), required=True,
                            metadata={"description": "variables to set on the running incident"})
