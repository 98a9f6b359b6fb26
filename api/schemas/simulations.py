"""Schemas of what-if simulations: the request (window, agents, declared distributions) and the result."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.safe_input import INT32_MAX


class SimulationRequestSchema(Schema):
    agents = fields.Dict(keys=fields.String(), values=fields.Integer(validate=validate.Range(min=0, max=100_000)), required=True,
                         metadata={"description": "agents per lane (candidate group)", "example": {"service-desk": 3}})
    since = fields.DateTime(load_default=None, metadata={"description": "window of history to replay (default: "
                                                                        "`days` before `until`)"})
    until = fields.DateTime(load_default=None, metadata={"description": "default: now"})
    days = fields.Integer(load_default=None, validate=validate.Range(min=1, max=366),
                          metadata={"description": "window length when `since` is not given (default 30)"})
    replications = fields.Integer(load_default=10, validate=validate.Range(min=1, max=50))
    seed = fields.Integer(load_default=1, validate=validate.Range(min=0, max=INT32_MAX))
    history = fields.Boolean(load_default=True, metadata={"description": "replay the active version's history "
                                                                         "(false: declared figures only)"})
    declared = fields.Dict(load_default=None, metadata={
        "description": "declared distributions, for a new procedure or over history: arrivals_per_hour (a rate or "
                       "24), start_data (list of objects), tasks {element: distribution}, gateways and "
                       "retry_gateways {gateway: {flow: weight}}, timers {element: distribution}; a distribution "
                       "is {distribution: fixed|exponential|uniform|triangular|lognormal|empirical, ...} with "
                       "seconds or ISO 8601 durations"})


class SimulationSchema(Schema):
    id = fields.String()
    procedure = fields.String(attribute="procedure_key")
    version = fields.Integer(attribute="procedure_version")
    sha256 = fields.String()
    status = fields.String(metadata={"enum": ["queued", "running", "done", "error"]})
    parameters = fields.Dict()
    progress = fields.Dict(allow_none=True, metadata={"description": "phase, replications_done, replications"})
    report = fields.Dict(allow_none=True, metadata={
        "description": "criteria (status met|at_risk|missed|not_enough_data, value, spread over runs, per-run "
                       "statuses), lanes (queue length, utilisation, wait), incidents, cycle time, tasks, inputs"})
    error = fields.String(allow_none=True)
    attached = fields.Boolean(metadata={"description": "attached to the version as approval evidence"})
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


class SimulationListSchema(Schema):
    items = fields.List(fields.Nested(SimulationSchema))
