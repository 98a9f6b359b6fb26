"""Rewinding an incident to its latest failed check so that the gateway can run again, overridden.

The fail flow of a check usually leads to rework (a task that collects the missing data) or to an escalation.
An override drops that pending work and makes the gateway ready again with the override flag set; when the
engine runs it, it takes the pass flow. SpiffWorkflow note 5.3: a reset leaves dropped timers in the event
manager, so the caller must reload the workflow from its JSON before it runs on.
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from .check_gateway import OVERRIDE_FLAG
from .procedure import RuntimeProcedure
from .transitions import Transition, audit_state

_PENDING = TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.ERROR


class NothingToOverride(LookupError):
    """The check's gateway has no failed pass with work still pending behind it."""


def _all_tasks(workflow: BpmnWorkflow) -> list[Any]:
    tasks = list(workflow.tasks.values())
    for sub in workflow.subprocesses.values():
        tasks.extend(sub.tasks.values())
    return tasks


def latest_pass(workflow: BpmnWorkflow, gateway_id: str) -> Any:
    """The most recently completed task of the gateway, or None."""
    done = [t for t in _all_tasks(workflow)
            if t.task_spec.bpmn_id == gateway_id and t.state == TaskState.COMPLETED]
    return max(done, key=lambda t: t.last_state_change or 0.0) if done else None


def rewind_to_check(procedure: RuntimeProcedure, workflow: BpmnWorkflow, gateway_id: str) -> list[Transition]:
    """Reset the gateway's latest pass with the override flag set; the pending tasks it drops, as cancellations.

    Raises NothingToOverride when the gateway never completed, took its pass flow last time, or left
    nothing pending behind it (the fail path already ended).
    """
    gateway = latest_pass(workflow, gateway_id)
    if gateway is None:
        raise NothingToOverride(f"{gateway_id} has not been reached")
    pass_output = getattr(gateway.task_spec, "pass_output", None)
    taken = {c.task_spec.name for c in gateway.children
             if c.has_state(TaskState.DEFINITE_MASK | TaskState.FINISHED_MASK) and not c.has_state(TaskState.CANCELLED)}
    if gateway.internal_data.get(OVERRIDE_FLAG) or pass_output is None or pass_output in taken:
        raise NothingToOverride(f"{gateway_id} took its pass flow last time")
    pending = [t for t in gateway if t is not gateway and t.has_state(_PENDING)]
    if not pending:
        raise NothingToOverride(f"nothing is waiting on the fail path of {gateway_id}")
    dropped = workflow.reset_from_task_id(gateway.id)
    gateway.internal_data[OVERRIDE_FLAG] = True
    cancelled = []
    for task in dropped:
        bpmn_id = task.task_spec.bpmn_id
        if bpmn_id and task.has_state(_PENDING):
            cancelled.append(Transition("task", str(task.id), bpmn_id, task.task_spec.bpmn_name,
                                        procedure.node_type(bpmn_id) or type(task.task_spec).__name__,
                                        audit_state(task.state), "cancelled"))
    return cancelled
