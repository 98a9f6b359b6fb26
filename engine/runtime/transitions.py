"""Which tasks changed state during a step, as audit-ready transitions (including gateway decisions and timer firings)."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from . import compensation
from .check_gateway import check_transition
from .procedure import RuntimeProcedure

_TRACKED = TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.FINISHED_MASK
_GATEWAYS = {"exclusiveGateway", "inclusiveGateway"}


@dataclass(frozen=True)
class Transition:
    kind: str  # task | gateway | timer_fired | check_passed | check_failed | check_overridden
    task_id: str
    element_id: str
    element_name: str | None
    element_type: str | None
    from_state: str | None
    to_state: str
    data: dict[str, Any] | None = field(default=None)


@dataclass(frozen=True)
class Snapshot:
    states: dict[Any, int]

    @classmethod
    def empty(cls) -> Snapshot:
        return cls({})

    @classmethod
    def of(cls, workflow: BpmnWorkflow) -> Snapshot:
        return cls({t.id: t.state for t in _all_tasks(workflow)})


def _all_tasks(workflow: BpmnWorkflow) -> list[Any]:
    tasks = list(workflow.tasks.values())
    for sub in workflow.subprocesses.values():
        tasks.extend(sub.tasks.values())
    return tasks


# The task states of our audit trail. SpiffWorkflow's predicted states (maybe, likely, future) only mean
# "not reached yet": a transition out of one is recorded with from_state null, never with its internal name.
AUDIT_STATES: dict[int, str] = {TaskState.WAITING: "waiting", TaskState.READY: "ready", TaskState.STARTED: "started",
                                TaskState.COMPLETED: "completed", TaskState.ERROR: "error",
                                TaskState.CANCELLED: "cancelled"}


def audit_state(state: int | None) -> str | None:
    """A SpiffWorkflow task state as the audit trail names it (None: not reached yet)."""
    return None if state is None else AUDIT_STATES.get(state)


def diff_transitions(procedure: RuntimeProcedure, before: Snapshot, workflow: BpmnWorkflow) -> list[Transition]:
    """Every tracked state change between `before` and now, in the order the tasks last changed."""
    changed = []
    for task in _all_tasks(workflow):
        bpmn_id = task.task_spec.bpmn_id
        handler = getattr(task.task_spec, "compensation_handler", None)
        if not (bpmn_id or handler) or not task.has_state(_TRACKED):
            continue
        previous = before.states.get(task.id)
        if previous == task.state:
            continue
        changed.append((task.last_state_change or 0.0, task, previous))
    changed.sort(key=lambda item: item[0])
    transitions: list[Transition] = []
    for _ts, task, previous in changed:
        if not task.task_spec.bpmn_id:  # a compensation handler's call (engine.runtime.compensation)
            transitions.extend(compensation.transitions(task, previous, functools.partial(_compensation, procedure)))
            continue
        transitions.append(_transition(procedure, task, previous))
        if transitions[-1].kind == "gateway":
            check = check_transition(procedure, task, transitions[-1])
            transitions.extend([check] if check is not None else [])
    return transitions


def _compensation(procedure: RuntimeProcedure, kind: str, task: Any, element_id: str, from_state: int | None,
                  to_state: int, data: dict[str, Any]) -> Transition:
    node = procedure.definition.nodes.get(element_id)
    return Transition(kind, str(task.id), element_id, node.name if node is not None else None,
                      node.type if node is not None else None, audit_state(from_state), audit_state(to_state) or "",
                      data)


def _transition(procedure: RuntimeProcedure, task: Any, previous: int | None) -> Transition:
    spec = task.task_spec
    node_type = procedure.node_type(spec.bpmn_id) or type(spec).__name__
    kind, data = "task", None
    if node_type in _GATEWAYS and task.state == TaskState.COMPLETED:
        kind = "gateway"
        data = procedure.decision(spec.bpmn_id, _taken_targets(task))
    elif procedure.is_timer(spec.bpmn_id) and task.has_state(TaskState.READY | TaskState.COMPLETED) \
            and previous not in (TaskState.READY, TaskState.COMPLETED):
        # waiting -> fired, or armed and fired in one step (a deadline already past when it was reached)
        kind = "timer_fired"
        data = {"due_at": task.internal_data.get("event_value")}
    return Transition(kind, str(task.id), spec.bpmn_id, spec.bpmn_name, node_type,
                      audit_state(previous), audit_state(task.state) or "", data)


def _taken_targets(task: Any) -> list[str]:
    targets = []
    for child in task.children:
        if child.has_state(TaskState.CANCELLED):
            continue
        if child.has_state(TaskState.PREDICTED_MASK) and not child.has_state(TaskState.FUTURE):
            continue
        name = child.task_spec.bpmn_id or child.task_spec.name.split(".")[0]
        targets.append(name)
    return targets
