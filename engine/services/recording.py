"""Persisting one transition: workflow state, task, timer, outbox and audit rows in the caller's transaction."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from engine import observe
from engine.db import audit_rows, broadcast_rows, incident_rows, outbox_rows, task_rows
from engine.errors import Conflict
from engine.records.declarations import declared, sift
from engine.runtime.check_gateway import CHECK_KINDS
from engine.runtime.procedure import RuntimeProcedure
from engine.runtime.runner import Outcome, StartedService

from . import task_attributes
from .camunda_forms import pinned_form
from .candidates import candidates
from .check_results import record_check
from .debriefs import snapshot_on_completion
from .external_task_sync import sync_external_tasks
from .procedures import form_fields
from .timer_sync import sync_timers
from .views import incident_view
from .wait_sync import sync_waits

_AUDIT_COLUMNS = ("task_id", "element_id", "element_name", "element_type", "from_state", "to_state")
_ENDED = {"completed": "completed", "cancelled": "cancelled", "error": "cancelled"}


@dataclass
class Step:
    """Everything a transition writes, gathered before one commit."""

    incident: dict[str, Any]
    runtime: RuntimeProcedure
    actor: str | None
    at: datetime
    audit: list[dict[str, Any]] = field(default_factory=list)
    queued: set[str] = field(default_factory=set)
    timers_written: bool = False
    # The incident's open task rows as this transaction leaves them, and its row as saved: enough to
    # answer the request without reading either back.
    open_rows: dict[str, dict[str, Any]] | None = None
    saved: dict[str, Any] | None = None
    # The incident's awaited messages and signals as this transaction leaves them (read once, if at all).
    waits: dict[tuple[str, str, str], dict[str, Any]] | None = None
    # For a procedure that calls other files' processes: its child incidents as this transaction leaves them
    # (None: not known, the view is read from the database)
    children: list[dict[str, Any]] | None = None
    appended: int = 0  # how many of `audit` are in the database already (the rest: held, see save_incident)

    def view(self) -> dict[str, Any] | None:
        """The incident as the edges show it after this step, from memory; None when not saved."""
        if self.saved is None or self.open_rows is None:
            return None
        if self.runtime.calls_other_files and self.children is None:
            return None
        rows = sorted(self.open_rows.values(), key=lambda r: (r["created_at"], r["id"]))
        found = incident_view(self.saved, rows)
        if self.children:
            found["child_incidents"] = [child_summary(c) for c in self.children]
        return found


    def event(self, kind: str, data: dict[str, Any] | None = None, **columns: Any) -> None:
        """An audit row; declared personal values go to its erasable `personal` payload, the marker to `data`."""
        personal = None
        names = declared(self.runtime.definition).names
        if names and isinstance(data, dict):
            data, found = sift(data, names)
            personal = found or None
        self.audit.append({
            "incident_id": self.incident["id"], "procedure_key": self.runtime.key,
            "procedure_version": self.runtime.version, "kind": kind, "actor": self.actor, "at": self.at,
            "data": data, **dict.fromkeys(_AUDIT_COLUMNS), **columns, "test": self.test, "personal": personal,
        })

    @property
    def test(self) -> bool:
        """A test incident's rows are marked, so monitoring never counts them."""
        return bool(self.incident.get("test"))


def child_summary(child: dict[str, Any]) -> dict[str, Any]:
    """How an incident's view lists one of its child incidents."""
    return {"id": child["id"], "procedure": child["procedure_key"], "version": child["procedure_version"],
            "status": child["status"], "parent_task_id": child["parent_task_id"]}


def record_outcome(conn: Connection, step: Step, outcome: Outcome, *, completed_task: str | None = None,
                   submitted: dict[str, Any] | None = None,
                   mode_of: Callable[[StartedService], str] | None = None) -> None:
    """Audit the outcome's transitions, sync the tasks and timers tables and queue started service tasks.

    Each started service task gets one outbox row, ever: a 'wait' task stays started across later
    transitions, so rows already written by an earlier transaction are looked up, not written again.
    """
    for tr in outcome.transitions:
        data = submitted if tr.task_id == completed_task and tr.to_state == "completed" else tr.data
        if tr.kind in CHECK_KINDS:
            data = record_check(conn, step, tr)
        step.event(tr.kind, data, task_id=tr.task_id, element_id=tr.element_id, element_name=tr.element_name,
                   element_type=tr.element_type, from_state=tr.from_state, to_state=tr.to_state)
    _sync_tasks(conn, step, outcome)
    sync_timers(conn, step, outcome)
    sync_waits(conn, step, outcome)
    for signal in outcome.signals:  # its own incident caught it already; the others get it in batches
        broadcast_rows.queue(conn, signal.name, signal.variables, actor=step.actor, at=step.at,
                             origin_incident_id=step.incident["id"])
        step.event("signal_thrown", {"signal": signal.name, "variables": signal.variables},
                   element_id=signal.element_id)
    fresh = [s for s in outcome.services if s.task_id not in step.queued]
    pulled = [s for s in fresh if mode_of is not None and mode_of(s) == "external"]
    if pulled or any(tr.to_state == "cancelled" for tr in outcome.transitions):
        sync_external_tasks(conn, step, outcome, pulled)
    fresh = [s for s in fresh if s not in pulled and not (mode_of is not None and mode_of(s) in ("decision", "call"))]
    already = outbox_rows.queued_tasks(conn, [s.task_id for s in fresh])
    for service in fresh:
        step.queued.add(service.task_id)
        if service.task_id in already:
            continue
        outbox_rows.insert(conn, {
            "id": str(uuid.uuid4()), "incident_id": step.incident["id"], "task_id": service.task_id,
            "element_id": service.element_id, "topic": service.topic or service.element_id,
            "mode": mode_of(service) if mode_of else "fire_and_forget",
            "payload": {"incident_id": step.incident["id"], "procedure": step.runtime.key,
                        "version": step.runtime.version, "element_id": service.element_id,
                        "data": service.data, **({"test": True} if step.test else {})},
            "status": "pending", "attempts": 0, "created_at": step.at, "next_attempt_at": step.at,
        })


def _attributes(user_task: Any, task: Any, at: datetime) -> dict[str, Any]:
    """camunda:dueDate (else the deadline of a timer on the task), followUpDate, priority and formKey."""
    if user_task is None:
        return {"due_at": task.due_at, "follow_up_at": None, "priority": task_attributes.DEFAULT_PRIORITY,
                "form_key": None}
    return {"due_at": task_attributes.moment(user_task.due_date, task.data, at) or task.due_at,
            "follow_up_at": task_attributes.moment(user_task.follow_up_date, task.data, at),
            "priority": task_attributes.priority(user_task.priority, task.data), "form_key": user_task.form_key}


def _sync_tasks(conn: Connection, step: Step, outcome: Outcome) -> None:
    open_now = {t.id: t for t in outcome.open_tasks}
    if step.open_rows is None:
        step.open_rows = {r["id"]: r for r in task_rows.open_for(conn, [step.incident["id"]])[step.incident["id"]]}
    open_rows = step.open_rows
    stored = set(open_rows)
    ended_states = {tr.task_id: tr.to_state for tr in outcome.transitions}
    for task_id in stored - open_now.keys():
        state = _ENDED.get(ended_states.get(task_id, "cancelled"), "cancelled")
        task_rows.end(conn, task_id, state, step.at, step.actor if state == "completed" else None)
        if state == "completed":
            observe.note_task_ended(conn, open_rows[task_id], step.at)
        del open_rows[task_id]
    rows = []
    for task_id in open_now.keys() - stored:
        task = open_now[task_id]
        user_task = step.runtime.definition.user_task(task.element_id)
        groups, users, assignee = candidates(user_task, task.data) if user_task else ([task.lane] if task.lane else [], [], None)
        starter = step.incident.get("created_by")
        if step.test and starter and starter not in users:
            users = [*users, starter]  # whoever started a test incident may work it through
        rows.append({
            "id": task.id, "incident_id": step.incident["id"], "procedure_key": step.runtime.key,
            "element_id": task.element_id, "name": task.name, "lane": task.lane,
            "candidate_groups": groups, "candidate_users": users, "assignee": assignee, "state": "ready",
            "form": form_fields(user_task) if user_task else [],
            "documentation": user_task.documentation if user_task else None,
            "created_at": step.at, "test": step.test, **_attributes(user_task, task, step.at),
            "camunda_form_id": pinned_form(conn, step.runtime, user_task) if user_task else None,
        })
    task_rows.insert_many(conn, rows)
    open_rows.update({row["id"]: {"claimed_at": None, "ended_at": None, "ended_by": None, **row} for row in rows})


def save_incident(conn: Connection, step: Step, outcome: Outcome, *, data: dict[str, Any],
                  hold_audit: bool = False) -> None:
    """Write the new workflow state, guarded by the row version read under the lock. With `hold_audit` (a
    running incident whose call activities start children next) its audit rows stay in `step.audit` for the
    caller to append with the `call_started` rows (calls.start_children): one append instead of two."""
    ended = outcome.status in ("completed", "cancelled")
    values = {"state": outcome.state, "status": outcome.status, "data": data,
              "next_timer_at": outcome.next_timer_at, "updated_at": step.at,
              "ended_at": step.at if ended else None, "error": outcome.error if outcome.status == "stalled" else None}
    if not incident_rows.update(conn, step.incident["id"], step.incident["row_version"], values):
        raise Conflict("the incident changed while this request ran; reload and retry")
    step.saved = {**step.incident, **values, "row_version": step.incident["row_version"] + 1}
    step.saved.pop("state", None)
    if outcome.status == "completed":
        step.event("incident_completed", None, to_state="completed")
    elif outcome.status == "stalled":
        step.event("incident_stalled", {"reason": outcome.error}, from_state=step.incident["status"],
                   to_state="stalled")
    if hold_audit and outcome.status == "running":
        return
    audit_rows.append(conn, step.audit)
    step.appended = len(step.audit)
    if outcome.status == "completed":
        snapshot_on_completion(conn, step, data)


def save_stalled(conn: Connection, step: Step, reason: str) -> None:
    """The incident waits on nothing (engine.runtime.stall): mark it stalled, keep its state, audit why."""
    values = {"status": "stalled", "error": reason, "updated_at": step.at}
    if not incident_rows.update(conn, step.incident["id"], step.incident["row_version"], values):
        raise Conflict("the incident changed while this request ran; reload and retry")
    task_rows.end_all_open(conn, step.incident["id"], "cancelled", step.at, "system:stalled")
    step.event("incident_stalled", {"reason": reason}, from_state=step.incident["status"], to_state="stalled")
    audit_rows.append(conn, step.audit)


def save_failure(conn: Connection, step: Step, reason: str) -> None:
    """The incident cannot go on: keep its last good state, mark it error, audit why."""
    values = {"status": "error", "error": reason, "updated_at": step.at}
    if not incident_rows.update(conn, step.incident["id"], step.incident["row_version"], values):
        raise Conflict("the incident changed while this request ran; reload and retry")
    # Its tasks leave the queues at once: nobody can complete a task of an incident in error (it was a 409)
    task_rows.end_all_open(conn, step.incident["id"], "cancelled", step.at, "system:error")
    step.open_rows = {}
    step.event("incident_error", {"reason": reason}, from_state=step.incident["status"], to_state="error")
    audit_rows.append(conn, step.audit)
