"""Keeps the timers table in step with the workflow in the transition's transaction, and audits SLA breaches.

A timer the workflow starts waiting on becomes a pending row; one that fired is marked fired in the same
transaction as the workflow step that fired it (this is what makes a firing happen exactly once); one the
workflow stopped waiting on (its task completed, an interrupting sibling fired) is cancelled.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from engine.db import timer_rows
from engine.runtime.runner import Outcome
from engine.runtime.timers import parse_deadline

if TYPE_CHECKING:
    from .recording import Step


def sync_timers(conn: Connection, step: Step, outcome: Outcome) -> None:
    fired = {tr.task_id: tr for tr in outcome.transitions if tr.kind == "timer_fired"}
    waiting = {t.task_id: t for t in outcome.timers}
    # An incident that was waiting on no timer (next_timer_at unset when it was locked) has no pending
    # rows unless this step wrote some: then there is nothing to read.
    if step.timers is None:
        if not fired and not waiting and step.incident.get("next_timer_at") is None:
            return
        step.timers = {} if step.incident.get("next_timer_at") is None else \
            timer_rows.pending_for(conn, step.incident["id"])
    stored = step.timers
    new_rows = []
    for task_id, tr in fired.items():
        due_at = parse_deadline((tr.data or {}).get("due_at")) or step.at
        if task_id not in stored:
            new_rows.append(_row(step, task_id, tr.element_id, due_at, status="fired", fired_at=step.at))
        _audit_sla(step, outcome, tr.element_id, task_id, due_at)
    timer_rows.set_status(conn, [stored[t]["id"] for t in fired if t in stored], "fired", step.at)
    gone = [row["id"] for task_id, row in stored.items() if task_id not in waiting and task_id not in fired]
    timer_rows.set_status(conn, gone, "cancelled", step.at)
    for task_id, timer in waiting.items():
        if task_id in fired:
            continue
        if task_id not in stored:
            new_rows.append(_row(step, task_id, timer.element_id, timer.due_at, status="pending"))
        elif stored[task_id]["due_at"] != timer.due_at:
            timer_rows.reschedule(conn, stored[task_id]["id"], timer.due_at)
    timer_rows.insert_many(conn, new_rows)
    for task_id in [*fired, *(t for t, row in stored.items() if row["id"] in gone)]:  # no longer pending
        stored.pop(task_id, None)
    for task_id, timer in waiting.items():
        if task_id in stored and task_id not in fired:
            stored[task_id] = {**stored[task_id], "due_at": timer.due_at}
    stored.update({row["task_id"]: row for row in new_rows if row["status"] == "pending"})


def _row(step: Step, task_id: str, element_id: str, due_at: datetime, *, status: str,
         fired_at: datetime | None = None) -> dict[str, Any]:
    node = step.runtime.definition.nodes.get(element_id)
    return {
        "id": str(uuid.uuid4()), "incident_id": step.incident["id"], "task_id": task_id,
        "element_id": element_id, "attached_to": node.attached_to if node else None,
        "is_sla": _is_sla(node), "interrupting": node.cancel_activity if node else None,
        "status": status, "due_at": due_at, "created_at": step.at, "fired_at": fired_at,
    }


def _is_sla(node: Any) -> bool:
    return node is not None and str(node.properties.get("sla", "")).strip().lower() == "true"


def _attached_task_id(outcome: Outcome, element_id: str | None) -> str | None:
    """The id of the task the timer is attached to: still open (non-interrupting) or just cancelled."""
    for task in outcome.open_tasks:
        if task.element_id == element_id:
            return task.id
    ended = [tr.task_id for tr in outcome.transitions if tr.element_id == element_id and tr.kind == "task"]
    return ended[-1] if ended else None


def _audit_sla(step: Step, outcome: Outcome, element_id: str, timer_task_id: str, due_at: datetime) -> None:
    """An SLA timer fired: record which task missed its deadline, and by how much."""
    node = step.runtime.definition.nodes.get(element_id)
    if node is None or not _is_sla(node):
        return
    task = step.runtime.definition.nodes.get(node.attached_to or "")
    late_by = max(0, round((step.at - due_at).total_seconds()))
    step.event("sla_breached", {
        "timer": element_id, "timer_name": node.name, "timer_task_id": timer_task_id,
        "task": node.attached_to, "task_name": task.name if task else None,
        "due_at": due_at.isoformat(), "fired_at": step.at.isoformat(), "late_by_seconds": late_by,
        "interrupting": node.cancel_activity,
    }, task_id=_attached_task_id(outcome, node.attached_to), element_id=node.attached_to or element_id,
        element_name=task.name if task else node.name, element_type=task.type if task else node.type)
