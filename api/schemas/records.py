"""Schemas of the records resources: audit chain verification (issue #17)."""
from __future__ import annotations

from marshmallow import Schema, fields


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
