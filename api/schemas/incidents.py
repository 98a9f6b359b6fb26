"""Schemas of incidents, tasks and audit rows."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.safe_input import INT32_MAX

from .common import PageQuerySchema, PageSchema
from .procedures import FormFieldSchema

STATUSES = ("running", "completed", "error", "cancelled", "stalled")
_TEST_FILTER = {"description": "`true`: only test incidents' rows; `false` (default): only live ones"}


class TaskSchema(Schema):
    id = fields.String()
    incident_id = fields.String()
    procedure = fields.String()
    element_id = fields.String()
    name = fields.String(allow_none=True)
    lane = fields.String(allow_none=True)
    candidate_groups = fields.List(fields.String())
    candidate_users = fields.List(fields.String())
    assignee = fields.String(allow_none=True)
    state = fields.String()
    form = fields.List(fields.Nested(FormFieldSchema))
    camunda_form = fields.Dict(allow_none=True, metadata={
        "description": "GET /tasks/{id} only: the Camunda form (.form) the task shows, {id, key, version, filename, "
                       "schema}: render `schema` with form-js; completion is validated against it"})
    camunda_form_error = fields.String(metadata={"description": "why the task's Camunda form cannot be shown"})
    documentation = fields.String(allow_none=True)
    created_at = fields.DateTime()
    due_at = fields.DateTime(allow_none=True, metadata={
        "description": "camunda:dueDate, else the deadline of a timer on the task"})
    follow_up_at = fields.DateTime(allow_none=True, metadata={"description": "camunda:followUpDate"})
    priority = fields.Integer(metadata={"description": "camunda:priority (default 50; higher comes first)"})
    form_key = fields.String(allow_none=True, metadata={"description": "camunda:formKey"})
    claimed_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
    ended_by = fields.String(allow_none=True)
    test = fields.Boolean(metadata={"description": "a task of a test incident"})


class IncidentSchema(Schema):
    id = fields.String()
    procedure = fields.String()
    version = fields.Integer()
    reference = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(STATUSES)})
    data = fields.Dict()
    error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    created_by = fields.String(allow_none=True)
    next_timer_at = fields.DateTime(allow_none=True)
    test = fields.Boolean(metadata={"description": "a test incident: not counted by monitoring, purged after "
                                                   "TEST_INCIDENT_RETENTION_DAYS"})
    open_tasks = fields.List(fields.Nested(TaskSchema))
    parent_incident_id = fields.String(allow_none=True, metadata={
        "description": "the incident whose call activity started this one (a called process of another file)"})
    child_incidents = fields.List(fields.Dict(), metadata={
        "description": "the incidents its call activities started {id, procedure, version, status, "
                       "parent_task_id} (left out when there are none; not in lists)"})


class IncidentStartSchema(Schema):
    procedure = fields.String(required=True, validate=validate.Length(min=1, max=255))
    version = fields.Integer(load_default=None, validate=validate.Range(min=1, max=INT32_MAX))
    reference = fields.String(load_default=None, validate=validate.Length(min=1, max=255))
    data = fields.Dict(keys=fields.String(), load_default=dict)
    test = fields.Boolean(load_default=False, metadata={"description": (
        "a test incident (designers and ops): runs any version (default: the latest), not only the active "
        "one; never counted by monitoring; purged after TEST_INCIDENT_RETENTION_DAYS")})


class IncidentQuerySchema(PageQuerySchema):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    procedure = fields.String(load_default=None)
    test = fields.Boolean(load_default=False, metadata=_TEST_FILTER)


class IncidentPageSchema(PageSchema):
    items = fields.List(fields.Nested(IncidentSchema))


class CancelSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


SORTS = ("created", "priority", "due", "follow_up")


class TaskQuerySchema(PageQuerySchema):
    state = fields.String(load_default="ready", validate=validate.OneOf(("ready", "completed", "cancelled")))
    lane = fields.String(load_default=None)
    incident = fields.String(load_default=None)
    assignee = fields.String(load_default=None, validate=validate.Length(min=1, max=255),
                             metadata={"description": "`me`, or a user id: only tasks held by them"})
    unassigned = fields.Boolean(load_default=False, metadata={"description": "only tasks nobody holds"})
    test = fields.Boolean(load_default=False, metadata=_TEST_FILTER)
    procedure = fields.String(load_default=None, metadata={"description": "procedure key"})
    element_id = fields.String(load_default=None, metadata={"description": "BPMN id of the task"})
    reference = fields.String(load_default=None, metadata={"description": "the incident's reference"})
    candidate_group = fields.List(fields.String(), load_default=list,
                                  metadata={"description": "offered to one of these groups (repeat the parameter)"})
    due_before = fields.AwareDateTime(load_default=None, default_timezone=None)
    due_after = fields.AwareDateTime(load_default=None, default_timezone=None)
    follow_up_before = fields.AwareDateTime(load_default=None, default_timezone=None)
    follow_up_after = fields.AwareDateTime(load_default=None, default_timezone=None)
    min_priority = fields.Integer(load_default=None, validate=validate.Range(min=-INT32_MAX - 1, max=INT32_MAX))
    max_priority = fields.Integer(load_default=None, validate=validate.Range(min=-INT32_MAX - 1, max=INT32_MAX))
    sort = fields.String(load_default="created", validate=validate.OneOf(SORTS), metadata={
        "description": "created (oldest first), priority (highest first), due or follow_up (soonest first, "
                       "tasks without one last)"})


class TaskPageSchema(PageSchema):
    items = fields.List(fields.Nested(TaskSchema))


class AssignSchema(Schema):
    user = fields.String(required=True, validate=validate.Length(min=1, max=255),
                         metadata={"description": "the user id (token `sub`) to give the task to"})


class CompleteSchema(Schema):
    data = fields.Dict(keys=fields.String(), load_default=dict)


class AuditSchema(Schema):
    id = fields.Integer()
    incident_id = fields.String()
    procedure_key = fields.String()
    procedure_version = fields.Integer()
    kind = fields.String()
    task_id = fields.String(allow_none=True)
    element_id = fields.String(allow_none=True)
    element_name = fields.String(allow_none=True)
    element_type = fields.String(allow_none=True)
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    actor = fields.String(allow_none=True)
    at = fields.DateTime()
    data = fields.Raw(allow_none=True)
    test = fields.Boolean(metadata={"description": "a row of a test incident"})
    seq = fields.Integer(allow_none=True, metadata={"description": "place in the incident's hash chain"})
    hash = fields.String(allow_none=True, metadata={"description": "keyed hash chained to the row before"})


class AuditListSchema(Schema):
    items = fields.List(fields.Nested(AuditSchema))


class AuditQuerySchema(PageQuerySchema):
    procedure = fields.String(load_default=None)
    since = fields.AwareDateTime(load_default=None, default_timezone=None)
    test = fields.Boolean(load_default=False, metadata=_TEST_FILTER)


class AuditPageSchema(PageSchema):
    items = fields.List(fields.Nested(AuditSchema))


class ActivitySchema(Schema):
    """One activity instance of an incident, derived from its audit trail."""

    id = fields.String()
    incident_id = fields.String()
    element_id = fields.String()
    element_name = fields.String(allow_none=True)
    element_type = fields.String(allow_none=True)
    procedure = fields.String()
    version = fields.Integer()
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    state = fields.String(allow_none=True)
    actor = fields.String(allow_none=True, metadata={"description": "who ended it"})


class ActivityListSchema(Schema):
    items = fields.List(fields.Nested(ActivitySchema))


class FailureSchema(Schema):
    """A failed activity: an incident that cannot go on, or an external task out of retries."""

    id = fields.String()
    kind = fields.String(metadata={"description": "failed_incident or failed_external_task"})
    incident_id = fields.String()
    procedure_id = fields.String()
    procedure = fields.String()
    element_id = fields.String(allow_none=True)
    message = fields.String(allow_none=True)
    at = fields.DateTime()
    external_task_id = fields.String(allow_none=True)


class FailureQuerySchema(Schema):
    incident = fields.String(load_default=None)
    kind = fields.String(load_default=None, validate=validate.OneOf(("failed_incident", "failed_external_task")))


class FailureListSchema(Schema):
    items = fields.List(fields.Nested(FailureSchema))
