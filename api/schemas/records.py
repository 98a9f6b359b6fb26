"""Schemas of the records resources: audit chain verification (issue #17)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


class ChainBreakSchema(Schema):
    seq = fields.Integer(allow_none=True, metadata={"description": "place in the incident's chain"})
    audit_id = fields.Integer(allow_none=True, metadata={"description": "id of the audit row, when it exists"})
    reason = fields.String()


class AuditVerifySchema(Schema):
    """What recomputing an incident's audit hash chain found."""

    incident_id = fields.String()
    valid = fields.Boolean(metadata={"description": "every row matches its hash and the chain head"})
    rows = fields.Integer()
    chained = fields.Integer()
    unchained = fields.Integer(metadata={"description": "rows written before the chain existed"})
    head_seq = fields.Integer(metadata={"description": "the last row verified"})
    first_broken = fields.Nested(ChainBreakSchema, allow_none=True)


class ErasureRequestSchema(Schema):
    subject_id = fields.String(required=True, validate=validate.Length(min=1, max=255),
                               metadata={"description": "the data subject's identifier (the procedure's "
                                                        "`data_subject` variable), e.g. a customer id or e-mail"})
    legal_basis = fields.String(required=True, validate=validate.Length(min=1, max=1000),
                                metadata={"description": "why the erasure is due, e.g. 'Art. 17(1)(a): no longer "
                                                         "necessary'"})


class ErasedIncidentSchema(Schema):
    incident_id = fields.String()
    names = fields.List(fields.String())
    values = fields.Integer()
    audit_payloads = fields.Integer()


class HeldIncidentSchema(Schema):
    incident_id = fields.String()
    reason = fields.String()
    set_by = fields.String(allow_none=True)


class ErasureResultSchema(Schema):
    request_id = fields.String()
    requested_at = fields.DateTime()
    requested_by = fields.String(allow_none=True)
    legal_basis = fields.String()
    incidents = fields.Integer(metadata={"description": "incidents that hold (or held) the subject's data"})
    erased = fields.List(fields.Nested(ErasedIncidentSchema))
    values_erased = fields.Integer()
    audit_payloads_erased = fields.Integer()
    already_erased = fields.List(fields.String(), metadata={"description": "incidents with nothing left to erase"})
    held = fields.List(fields.Nested(HeldIncidentSchema), metadata={"description": "under legal hold: not erased"})
    nothing_erased = fields.Boolean()
    message = fields.String()


class SubjectExportSchema(Schema):
    subject_id = fields.String()
    generated_at = fields.DateTime()
    request_id = fields.String()
    incidents = fields.List(fields.Raw(), metadata={"description": "each incident with its personal values "
                                                                   "and the audit entries that carry them"})
    requests = fields.List(fields.Raw(), metadata={"description": "erasure and access requests made for them"})


class LegalHoldSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class LegalHoldStateSchema(Schema):
    incident_id = fields.String()
    held = fields.Boolean()
    reason = fields.String(allow_none=True)
    set_by = fields.String(allow_none=True)
    set_at = fields.DateTime()
