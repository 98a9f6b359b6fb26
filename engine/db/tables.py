"""The database schema, written once for PostgreSQL and SQLite (Alembic migrations are generated from it)."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Json = JSON().with_variant(JSONB(), "postgresql")
NullableJson = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")  # None is SQL NULL
BigId = BigInteger().with_variant(Integer(), "sqlite")

procedures = Table(
    "procedures",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("key", String(255), nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", String(500), nullable=True),
    Column("status", String(20), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("bpmn", LargeBinary, nullable=False),
    Column("summary", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(255), nullable=True),
    Column("deployment_id", String(36), nullable=True),  # NULL: uploaded before deployments existed
    Column("version_tag", String(255), nullable=True),
    UniqueConstraint("key", "version"),
    UniqueConstraint("key", "sha256", name="uq_procedures_key_sha256"),
)

# A set of files deployed together; `resources` lists what each file brought (created or unchanged).
deployments = Table(
    "deployments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(255), nullable=True),
    Column("source", String(255), nullable=True),
    Column("tenant_id", String(255), nullable=True),
    Column("resources", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(255), nullable=True),
    Index("ix_deployments_name_created", "name", "created_at"),
)

# Versions of the non-BPMN resources: DMN decisions (one row per decision) and Camunda forms.
resources = Table(
    "resources",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("key", String(255), nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", String(500), nullable=True),
    Column("filename", String(255), nullable=False),
    Column("version_tag", String(255), nullable=True),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("summary", Json, nullable=False),
    Column("deployment_id", String(36), ForeignKey("deployments.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(255), nullable=True),
    UniqueConstraint("kind", "key", "version", name="uq_resources_kind_key_version"),
    UniqueConstraint("kind", "key", "sha256", name="uq_resources_kind_key_sha256"),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("procedure_id", String(36), ForeignKey("procedures.id"), nullable=False),
    Column("procedure_key", String(255), nullable=False),
    Column("procedure_version", Integer, nullable=False),
    Column("reference", String(255), nullable=True),
    Column("status", String(20), nullable=False),
    Column("data", Json, nullable=False),
    Column("state", Text, nullable=False),
    Column("row_version", Integer, nullable=False, default=1),
    Column("error", Text, nullable=True),
    Column("next_timer_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("created_by", String(255), nullable=True),
    # A test incident (issue #10, `"test": true` at start) may run a version that is not active; monitoring
    # never counts it, and the retention job purges it.
    Column("test", Boolean, nullable=False, server_default=false()),
    # A child incident, started by a call activity of another procedure (issue 13): the parent incident and
    # the call activity's SpiffWorkflow task that waits for the child.
    Column("parent_incident_id", String(36), nullable=True),
    Column("parent_task_id", String(36), nullable=True),
    UniqueConstraint("procedure_key", "reference", name="uq_incidents_procedure_reference"),
    Index("ix_incidents_status_created", "status", "created_at"),
    Index("ix_incidents_procedure_created", "procedure_key", "created_at"),
    Index("ix_incidents_created_by", "created_by"),
    Index("ix_incidents_procedure_ended", "procedure_key", "ended_at"),
    Index("ix_incidents_parent", "parent_incident_id"),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("incident_id", String(36), ForeignKey("incidents.id"), nullable=False),
    Column("procedure_key", String(255), nullable=False),
    Column("element_id", String(255), nullable=False),
    Column("name", String(500), nullable=True),
    Column("lane", String(255), nullable=True),
    Column("candidate_groups", Json, nullable=False),
    Column("candidate_users", Json, nullable=False),
    Column("assignee", String(255), nullable=True),
    Column("state", String(20), nullable=False),
    Column("form", Json, nullable=False),
    Column("documentation", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=True),
    Column("claimed_at", UTCDateTime, nullable=True),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("ended_by", String(255), nullable=True),
    Column("test", Boolean, nullable=False, server_default=false()),  # of a test incident
    # camunda:followUpDate, camunda:priority (50 = Camunda's default) and camunda:formKey (issue 12)
    Column("follow_up_at", UTCDateTime, nullable=True),
    Column("priority", Integer, nullable=False, server_default="50"),
    Column("form_key", String(500), nullable=True),
    # the Camunda form version (resources.id) its formRef resolved to when the task was created (issue 13)
    Column("camunda_form_id", String(36), nullable=True),
    Index("ix_tasks_state_lane", "state", "lane"),
    Index("ix_tasks_incident", "incident_id"),
    Index("ix_tasks_assignee_state", "assignee", "state"),
    Index("ix_tasks_ended_by", "ended_by"),
    Index("ix_tasks_procedure_created", "procedure_key", "created_at"),
    Index("ix_tasks_procedure_ended", "procedure_key", "ended_at"),
)

# Who a task is offered to, one row per candidate group or user. The JSON columns on `tasks` keep the
# list for display; this side table makes "my queue" one indexed join on (kind, value) on both PostgreSQL
# and SQLite, where JSON containment would need a different operator (and index) per dialect.
task_candidates = Table(
    "task_candidates",
    metadata,
    Column("task_id", String(36), ForeignKey("tasks.id"), primary_key=True),
    Column("kind", String(10), primary_key=True),
    Column("value", String(255), primary_key=True),
    Index("ix_task_candidates_kind_value", "kind", "value", "task_id"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("incident_id", String(36), nullable=False),
    Column("procedure_key", String(255), nullable=False),
    Column("procedure_version", Integer, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("task_id", String(36), nullable=True),
    Column("element_id", String(255), nullable=True),
    Column("element_name", String(500), nullable=True),
    Column("element_type", String(60), nullable=True),
    Column("from_state", String(20), nullable=True),
    Column("to_state", String(20), nullable=True),
    Column("actor", String(255), nullable=True),
    Column("at", UTCDateTime, nullable=False),
    Column("data", Json, nullable=True),
    Column("test", Boolean, nullable=False, server_default=false()),  # of a test incident
    # the hash chain (issue #17): place in the incident's chain, keyed hash chained to the row before,
    # the erasable personal payload and its MAC (which the hash covers, so erasure keeps the chain valid)
    Column("seq", Integer, nullable=True),
    Column("hash", String(64), nullable=True),
    Column("personal", NullableJson, nullable=True),
    Column("personal_mac", String(64), nullable=True),
    Index("ix_audit_incident", "incident_id", "id"),
    Index("uq_audit_incident_seq", "incident_id", "seq", unique=True),
    Index("ix_audit_procedure_at", "procedure_key", "at"),
    Index("ix_audit_procedure_kind_at", "procedure_key", "kind", "at"),
)

# The last link of each incident's audit chain: appends lock it (so one incident's writers queue and two
# incidents never wait on each other), and verification checks that no row was cut from the end.
audit_chain_heads = Table(
    "audit_chain_heads",
    metadata,
    Column("incident_id", String(36), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

# Personal data (issue #17), kept apart from everything else: the workflow, incident data, task data,
# audit data, outbox payloads and debriefs hold the marker "[personal]"; the value is here (and in the
# `personal` payload of the audit row that recorded it). Erasure clears `value`; the row stays as evidence.
personal_data = Table(
    "personal_data",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("incident_id", String(36), nullable=False),
    Column("name", String(255), nullable=False),
    Column("value", NullableJson, nullable=True),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("retain_until", UTCDateTime, nullable=True),  # set when the incident ends
    Column("erased_at", UTCDateTime, nullable=True),
    Column("erased_reason", String(40), nullable=True),
    UniqueConstraint("incident_id", "name", name="uq_personal_data_incident_name"),
    Index("ix_personal_data_due", "retain_until"),
)

# Whose personal data an incident holds: the keyed hash of the data subject's identifier (never the
# identifier itself, so the link survives an erasure without keeping who it was).
data_subjects = Table(
    "data_subjects",
    metadata,
    Column("incident_id", String(36), primary_key=True),
    Column("subject_key", String(64), primary_key=True),
    Column("linked_at", UTCDateTime, nullable=False),
    Index("ix_data_subjects_subject", "subject_key"),
)

legal_holds = Table(
    "legal_holds",
    metadata,
    Column("incident_id", String(36), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("set_by", String(255), nullable=True),
    Column("set_at", UTCDateTime, nullable=False),
)

# Every erasure or access request, answered or not: who asked, when, for whom (keyed hash), on what basis.
subject_requests = Table(
    "subject_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(20), nullable=False),  # erasure | access
    Column("subject_key", String(64), nullable=False),
    Column("requested_by", String(255), nullable=True),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("legal_basis", Text, nullable=True),
    Column("result", Json, nullable=True),
    Index("ix_subject_requests_subject", "subject_key", "requested_at"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("incident_id", String(300), nullable=False),  # or 'procedure:<key>' for a procedure briefing
    Column("task_id", String(36), nullable=True),
    Column("topic", String(255), nullable=False),
    Column("payload", Json, nullable=False),
    Column("status", String(20), nullable=False),  # pending | delivering | delivered | dead | skipped
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    Column("element_id", String(255), nullable=True),
    Column("mode", String(20), nullable=False, default="fire_and_forget"),  # fire_and_forget | wait
    Column("claimed_until", UTCDateTime, nullable=True),
    UniqueConstraint("task_id", name="uq_outbox_task_id"),
    Index("ix_outbox_status_next", "status", "next_attempt_at"),
    Index("ix_outbox_incident", "incident_id"),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("outbox_id", String(36), ForeignKey("outbox.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("outcome", String(20), nullable=True),  # None while in flight | delivered | failed | rejected | lost
    Column("http_status", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("worker", String(255), nullable=True),
    UniqueConstraint("outbox_id", "number", name="uq_delivery_attempts_outbox_number"),
)

timers = Table(
    "timers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("incident_id", String(36), ForeignKey("incidents.id"), nullable=False),
    Column("task_id", String(36), nullable=False),
    Column("element_id", String(255), nullable=False),
    Column("attached_to", String(255), nullable=True),
    Column("is_sla", Boolean, nullable=False, default=False),
    Column("interrupting", Boolean, nullable=True),
    Column("status", String(20), nullable=False),  # pending | fired | cancelled
    Column("due_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("fired_at", UTCDateTime, nullable=True),
    Column("cancelled_at", UTCDateTime, nullable=True),
    UniqueConstraint("task_id", name="uq_timers_task_id"),
    Index("ix_timers_status_due", "status", "due_at"),
    Index("ix_timers_incident", "incident_id"),
)

idempotency = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(100), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_sha256", String(64), nullable=False),
    Column("response", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

check_results = Table(
    "check_results",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("incident_id", String(36), nullable=False),
    Column("procedure_key", String(255), nullable=False),
    Column("procedure_version", Integer, nullable=False),
    Column("check_name", String(255), nullable=False),
    Column("gateway_id", String(255), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("flow_id", String(255), nullable=True),
    Column("check_values", Json, nullable=True),
    Column("actor", String(255), nullable=True),
    Column("reason", Text, nullable=True),
    Column("at", UTCDateTime, nullable=False),
    Column("test", Boolean, nullable=False, server_default=false()),  # of a test incident
    Index("ix_check_results_incident", "incident_id", "id"),
    Index("ix_check_results_procedure", "procedure_key", "procedure_version", "check_name"),
    Index("ix_check_results_procedure_at", "procedure_key", "at"),
)

debriefs = Table(
    "debriefs",
    metadata,
    Column("incident_id", String(36), primary_key=True),
    Column("procedure_key", String(255), nullable=False),
    Column("procedure_version", Integer, nullable=False),
    Column("record", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# --- procedure governance (issue #6): strategy, declarations, lifecycle events, review, fitness tests ------
# Only one active version per procedure key, even with two API processes activating at once.
Index("uq_procedures_one_active", procedures.c.key, unique=True,
      postgresql_where=procedures.c.status == "active", sqlite_where=procedures.c.status == "active")

strategies = Table(
    "strategies",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("aim", Text, nullable=True),
    Column("created_by", String(255), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

objectives = Table(
    "objectives",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("strategy_id", String(36), ForeignKey("strategies.id"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=True),
    Column("created_by", String(255), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_objectives_strategy", "strategy_id", "created_at"),
)

criteria = Table(
    "criteria",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("objective_id", String(36), ForeignKey("objectives.id"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=True),
    Column("metric", String(60), nullable=False),
    Column("statistic", String(20), nullable=False),
    Column("comparator", String(20), nullable=False),
    Column("target", Json, nullable=False),
    Column("params", Json, nullable=False),
    Column("filter", Json, nullable=False),
    Column("procedure_key", String(255), nullable=True),
    Column("created_by", String(255), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_criteria_objective", "objective_id", "created_at"),
)

procedure_declarations = Table(
    "procedure_declarations",
    metadata,
    Column("procedure_id", String(36), ForeignKey("procedures.id"), primary_key=True),
    Column("peak_incidents_per_hour", Integer, nullable=True),
    Column("peak_agents", Integer, nullable=True),
    Column("updated_by", String(255), nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)

procedure_objectives = Table(
    "procedure_objectives",
    metadata,
    Column("procedure_id", String(36), ForeignKey("procedures.id"), primary_key=True),
    Column("objective_id", String(36), ForeignKey("objectives.id"), primary_key=True),
)

procedure_events = Table(
    "procedure_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("procedure_id", String(36), ForeignKey("procedures.id"), nullable=False),
    Column("procedure_key", String(255), nullable=False),
    Column("procedure_version", Integer, nullable=False),
    Column("action", String(40), nullable=False),
    Column("from_status", String(20), nullable=True),
    Column("to_status", String(20), nullable=True),
    Column("actor", String(255), nullable=True),
    Column("at", UTCDateTime, nullable=False),
    Column("data", Json, nullable=True),
    Index("ix_procedure_events_procedure", "procedure_id", "id"),
    Index("ix_procedure_events_key", "procedure_key", "id"),
)

review_comments = Table(
    "review_comments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("procedure_id", String(36), ForeignKey("procedures.id"), nullable=False),
    Column("element_id", String(255), nullable=True),
    Column("body", Text, nullable=False),
    Column("author", String(255), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("status", String(20), nullable=False),
    Column("reply", Text, nullable=True),
    Column("resolved_by", String(255), nullable=True),
    Column("resolved_at", UTCDateTime, nullable=True),
    Index("ix_review_comments_procedure", "procedure_id", "created_at"),
)

fitness_tests = Table(
    "fitness_tests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("procedure_id", String(36), ForeignKey("procedures.id"), nullable=False),
    Column("procedure_key", String(255), nullable=False),
    Column("procedure_version", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("incidents_per_hour", Integer, nullable=False),
    Column("agents", Integer, nullable=False),
    Column("duration_s", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("progress", Json, nullable=True),
    Column("report", Json, nullable=True),
    Column("error", Text, nullable=True),
    Column("stats_csv", Text, nullable=True),
    Column("failures_csv", Text, nullable=True),
    Column("history_csv", Text, nullable=True),
    Column("created_by", String(255), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Index("ix_fitness_tests_procedure", "procedure_id", "created_at"),
)

# --- test incidents (issue #10): the retention job finds them by their last activity ----------------------
Index("ix_incidents_test_updated", incidents.c.updated_at,
      postgresql_where=incidents.c.test, sqlite_where=incidents.c.test)

# --- scenario tests (issue #16): a version's suite of scenarios, and each run with its coverage ------------
scenario_suites = Table(
    "scenario_suites",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("procedure_id", String(36), ForeignKey("procedures.id"), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("format", String(10), nullable=False),  # yaml | json
    Column("source", Text, nullable=False),
    Column("summary", Json, nullable=False),
    Column("created_by", String(255), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_scenario_suites_procedure", "procedure_id", "created_at"),
)

scenario_runs = Table(
    "scenario_runs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("procedure_id", String(36), ForeignKey("procedures.id"), nullable=False),
    Column("procedure_key", String(255), nullable=False),
    Column("procedure_version", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("suite_id", String(36), ForeignKey("scenario_suites.id"), nullable=False),
    Column("suite_sha256", String(64), nullable=False),
    Column("status", String(20), nullable=False),  # passed | failed
    Column("passed", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("totals", Json, nullable=False),  # coverage totals and the uncovered flows, for listings
    Column("report", Json, nullable=False),
    Column("created_by", String(255), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_scenario_runs_procedure", "procedure_id", "created_at"),
)

# --- what-if simulations (issue #16): request, progress, prediction; attachable as approval evidence ------
simulations = Table(
    "simulations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("procedure_id", String(36), ForeignKey("procedures.id"), nullable=False),
    Column("procedure_key", String(255), nullable=False),
    Column("procedure_version", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("status", String(20), nullable=False),  # queued | running | done | error
    Column("parameters", Json, nullable=False),
    Column("progress", Json, nullable=True),
    Column("report", Json, nullable=True),
    Column("error", Text, nullable=True),
    Column("attached", Boolean, nullable=False, default=False),
    Column("created_by", String(255), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),  # a running simulation's worker renews it
    Index("ix_simulations_procedure", "procedure_id", "created_at"),
    Index("ix_simulations_status", "status", "created_at"),
)

# --- external tasks (issue #14): service tasks that pull workers fetch, lock and finish -------------------
# One row per started `camunda:type="external"` service task whose topic is pulled (not pushed through the
# outbox). The lock is the row: a worker holds it while `worker_id` is set and `lock_expires_at` is ahead.
external_tasks = Table(
    "external_tasks",
    metadata,
    Column("id", String(36), primary_key=True),  # the workflow task's id
    Column("incident_id", String(36), ForeignKey("incidents.id"), nullable=False),
    Column("procedure_id", String(36), nullable=False),
    Column("procedure_key", String(255), nullable=False),
    Column("procedure_version", Integer, nullable=False),
    Column("reference", String(255), nullable=True),
    Column("element_id", String(255), nullable=False),
    Column("element_name", String(500), nullable=True),
    Column("topic", String(255), nullable=False),
    Column("state", String(20), nullable=False),  # open | failed | completed | cancelled
    Column("priority", Integer, nullable=False, default=0),
    Column("worker_id", String(255), nullable=True),
    Column("lock_expires_at", UTCDateTime, nullable=True),
    Column("retries", Integer, nullable=True),  # None until the first failure, as in Camunda
    Column("available_at", UTCDateTime, nullable=True),  # after a failure: not fetchable before retryTimeout
    Column("error_message", Text, nullable=True),
    Column("error_details", Text, nullable=True),
    Column("variables", Json, nullable=False),
    Column("properties", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Index("ix_external_tasks_topic_state", "topic", "state", "created_at"),
    Index("ix_external_tasks_incident", "incident_id"),
)

# --- events and correlation (issue #12): awaited messages and signals, declarations, timer starts ------------
# One row per message or signal an incident waits for (a catch event, receive task, boundary event, a branch
# of an event-based gateway, an event subprocess's start): a correlation is an indexed lookup here, never a
# scan of workflow states. Written in the transition's transaction, like the timers table.
event_waits = Table(
    "event_waits",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("incident_id", String(36), ForeignKey("incidents.id"), nullable=False),
    Column("procedure_key", String(255), nullable=False),
    Column("task_id", String(36), nullable=False),
    Column("element_id", String(255), nullable=False),
    Column("kind", String(10), nullable=False),  # message | signal
    Column("name", String(255), nullable=False),
    Column("reference", String(255), nullable=True),  # the incident's business reference
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("task_id", "kind", "name", name="uq_event_waits_task_kind_name"),
    Index("ix_event_waits_kind_name_reference", "kind", "name", "reference"),
    Index("ix_event_waits_kind_name_id", "kind", "name", "id"),
    Index("ix_event_waits_incident", "incident_id"),
)

# The variables a wait can be correlated on (`{"case_id": "C-77"}`): one row per top-level scalar variable
# visible at the wait, its value as canonical JSON (engine.events.correlation.key_value).
event_wait_keys = Table(
    "event_wait_keys",
    metadata,
    Column("wait_id", BigId, ForeignKey("event_waits.id"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("value", String(255), nullable=False),
    Index("ix_event_wait_keys_name_value", "name", "value", "wait_id"),
)

# Which messages, signals and timer start events each procedure version declares, and where: the names a
# correlation may use, the message and signal start events of active versions, the timer starts to schedule.
event_declarations = Table(
    "event_declarations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("procedure_id", String(36), ForeignKey("procedures.id"), nullable=False),
    Column("procedure_key", String(255), nullable=False),
    Column("kind", String(10), nullable=False),  # message | signal | timer
    Column("role", String(10), nullable=False),  # start | catch | throw
    Column("name", String(255), nullable=True),  # None for timers
    Column("element_id", String(255), nullable=False),
    Column("timer_kind", String(10), nullable=True),  # date | cycle
    Column("timer_expression", Text, nullable=True),
    Index("ix_event_declarations_kind_name", "kind", "name"),
    Index("ix_event_declarations_procedure", "procedure_id"),
    Index("ix_event_declarations_kind_role", "kind", "role"),
)

# One row per firing of a timer start event, claimed with SKIP LOCKED: each firing starts one incident, once.
start_timer_firings = Table(
    "start_timer_firings",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("procedure_id", String(36), ForeignKey("procedures.id"), nullable=False),
    Column("procedure_key", String(255), nullable=False),
    Column("element_id", String(255), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("status", String(20), nullable=False),  # pending | claimed | fired | missed | failed | cancelled
    Column("created_at", UTCDateTime, nullable=False),
    Column("claimed_until", UTCDateTime, nullable=True),  # a claimer that died is replaced after this
    Column("fired_at", UTCDateTime, nullable=True),
    Column("incident_id", String(36), nullable=True),
    Column("error", Text, nullable=True),
    UniqueConstraint("procedure_id", "element_id", "due_at", name="uq_start_timer_firings_firing"),
    Index("ix_start_timer_firings_status_due", "status", "due_at"),
)

# A signal on its way to every incident waiting for it, in bounded batches (each its own transaction); the
# cursor is the last wait id reached, so an interrupted broadcast resumes where it stopped.
signal_broadcasts = Table(
    "signal_broadcasts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("variables", Json, nullable=False),
    Column("actor", String(255), nullable=True),
    Column("origin_incident_id", String(36), nullable=True),  # thrown by a procedure, or None (the API)
    Column("status", String(20), nullable=False),  # pending | running | done
    Column("last_wait_id", BigInteger, nullable=False, default=0),
    Column("until_wait_id", BigInteger, nullable=False, default=0),  # the newest wait when it was sent
    Column("reached", Integer, nullable=False, default=0),
    Column("started", Integer, nullable=False, default=0),
    Column("batches", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Index("ix_signal_broadcasts_status_created", "status", "created_at"),
)

# Sign-in links redeemed (issue #18): each link works once; rows are kept until the link would have expired.
used_sign_in_links = Table(
    "used_sign_in_links",
    metadata,
    Column("link_id", String(36), primary_key=True),
    Column("user_id", String(255), nullable=False),
    Column("used_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_used_sign_in_links_expires_at", "expires_at"),
)

# Failed HTTP Basic sign-ins, by a hash of (user, client address): the back-off that makes guessing
# passwords slow is shared by every API process. Rows are forgotten a while after the last failure.
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("key", String(64), primary_key=True),  # sha256 hex of user and address (neither kept in clear)
    Column("failures", Integer, nullable=False),
    Column("last_failed_at", UTCDateTime, nullable=False),
    Column("blocked_until", UTCDateTime, nullable=True),
    Index("ix_sign_in_failures_last_failed_at", "last_failed_at"),
)

# Deployments deleted (issue #14): the append-only record of each removal, kept after the deployment row is
# gone. `resources` is what the deployment listed, each entry with `removed` (its version went with it or
# was another deployment's); `removed_incidents` counts the test incidents purged with it (cascade).
deployment_deletions = Table(
    "deployment_deletions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("deployment_id", String(36), nullable=False),
    Column("name", String(255), nullable=True),
    Column("source", String(255), nullable=True),
    Column("deployed_at", UTCDateTime, nullable=False),
    Column("deployed_by", String(255), nullable=True),
    Column("deleted_at", UTCDateTime, nullable=False),
    Column("deleted_by", String(255), nullable=True),
    Column("cascaded", Boolean, nullable=False),
    Column("resources", Json, nullable=False),
    Column("removed_incidents", Integer, nullable=False),
    Index("ix_deployment_deletions_deployment", "deployment_id"),
    Index("ix_deployment_deletions_deleted_at", "deleted_at"),
)
