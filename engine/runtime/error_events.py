"""BPMN errors and escalations caught as Camunda 7 catches them: innermost scope outwards, event subprocesses too.

SpiffWorkflow 3.2 hands a thrown error to every waiting catcher of its workflow and then of the outer ones,
boundary events only, and ignores error and escalation event subprocesses. Camunda 7 walks from the throwing
activity outwards: first the activity's own boundary events, then at each enclosing scope that scope's error
(or escalation) event subprocesses and the boundary events of the subprocess that is the scope; at one scope an
event subprocess goes before a boundary event and a specific code before a catch-all one (Camunda's
precedence: 11, 10, 1, 0); an event subprocess never catches what is thrown inside itself (a rethrow goes out).
Caught nowhere: an error end event acts as a none end event and an escalation is ignored (for a child incident
the service layer hands it to the caller, engine.services.calls).

A throw event does not catch synchronously here: its definition records the throw (`Raising*`), the runner
stops the engine step after the throwing task has completed (`Thrown`) and `settle` runs the walk, so cancelling
the scope's other work never touches a task SpiffWorkflow is running.
"""
from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit, _EndJoin
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import (
    ErrorEventDefinition,
    EscalationEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.util.task import TaskState

from . import events

_KINDS: dict[str, Any] = {"error": ErrorEventDefinition, "escalation": EscalationEventDefinition}
_PENDING = "_incident_engine_thrown"
_OPEN = TaskState.NOT_FINISHED_MASK


@dataclass(frozen=True)
class Throw:
    """One error or escalation thrown by `task` (a throw event, a service task, a call activity)."""

    task: Any
    kind: str  # "error" | "escalation"
    code: str | None
    name: str | None
    payload: dict[str, Any]
    message: str | None = None


class Thrown(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised from the engine step's callback: a task has thrown; settle it before anything else runs."""


class _Recording:
    def throw(self, my_task: Any) -> None:
        kind = "error" if isinstance(self, ErrorEventDefinition) else "escalation"
        code = getattr(self, "code", None)
        record(Throw(my_task, kind, code, getattr(self, "name", None), copy.deepcopy(dict(my_task.data)),
                     getattr(my_task.task_spec, "error_message", None)))


class RaisingError(_Recording, ErrorEventDefinition):
    """An error end event's definition: the throw is recorded for `settle`."""


class RaisingEscalation(_Recording, EscalationEventDefinition):
    """An escalation throw (intermediate or end) event's definition: the throw is recorded for `settle`."""


def adopt(task_spec: Any) -> None:
    """Swap the definition of an error or escalation throw event for the recording one (after parsing)."""
    if not isinstance(task_spec, ThrowingEvent):
        return
    definition = task_spec.event_definition
    if type(definition) is ErrorEventDefinition:
        definition.__class__ = RaisingError
    elif type(definition) is EscalationEventDefinition:
        definition.__class__ = RaisingEscalation


def record(throw: Throw) -> None:
    top = throw.task.workflow.top_workflow
    top.__dict__.setdefault(_PENDING, []).append(throw)


def pending(workflow: Any) -> bool:
    return bool(workflow.__dict__.get(_PENDING))


def settle(workflow: Any, interrupting: Mapping[str, bool]) -> bool:
    """Catch every recorded throw (in order); an uncaught error or escalation is kept in the workflow's events
    (Outcome.raised). True if there was any."""
    throws = workflow.__dict__.pop(_PENDING, [])
    for item in throws:
        if not throw(workflow, item, interrupting, own_boundaries=False):
            workflow.bpmn_events.append(BpmnEvent(_KINDS[item.kind](item.name or item.code or "", code=item.code),
                                                  payload=item.payload))
    return bool(throws)


def _matches(definition: Any, kind: str, code: str | None) -> bool:
    """A catching definition of this kind whose code is this one, or none (a catch-all)."""
    return isinstance(definition, _KINDS[kind]) and not isinstance(definition, _Recording) \
        and (definition.code is None or definition.code == code)


def _boundaries(activity: Any, kind: str, code: str | None) -> list[tuple[int, Any]]:
    """(precedence, task) of the waiting boundary events of `activity` that catch this throw."""
    split = activity.parent
    if split is None or not isinstance(split.task_spec, BoundaryEventSplit):
        return []
    return [(1 if c.task_spec.event_definition.code is not None else 0, c) for c in split.children
            if isinstance(c.task_spec, BoundaryEvent) and c.state == TaskState.WAITING
            and _matches(c.task_spec.event_definition, kind, code)]


def _enclosing(task: Any) -> set[str]:
    """The spec names of the event subprocesses `task` runs inside, with the scope each instance runs in."""
    names = set()
    wf = task.workflow
    while wf.parent_task_id is not None:
        parent = wf.top_workflow.get_task_from_id(wf.parent_task_id)
        names.add(f"{id(parent.workflow)}/{parent.task_spec.name}")
        wf = parent.workflow
    return names


def _event_subprocesses(workflow: Any, scope: Any, kind: str, code: str | None,
                        inside: set[str]) -> list[tuple[int, str, Any]]:
    """(precedence, spec name, start event spec) of the scope's event subprocesses that catch this throw."""
    found = []
    for name in getattr(scope.spec.start, "trigger_specs", ()):
        if f"{id(scope)}/{name}" in inside:
            continue  # a rethrow from inside this event subprocess goes outwards
        sp_spec = workflow.subprocess_specs.get(name)
        for start in getattr(sp_spec, "bpmn_start_events", ()):
            if _matches(start.event_definition, kind, code):
                found.append((11 if start.event_definition.code is not None else 10, name, start))
    return found


def throw(workflow: Any, item: Throw, interrupting: Mapping[str, bool], *, own_boundaries: bool = True) -> bool:
    """Let the first catcher on Camunda's walk catch `item`; False when nothing catches it."""
    event = BpmnEvent(_KINDS[item.kind](item.name or item.code or "", code=item.code), payload=item.payload,
                      target=item.task.workflow)
    inside = _enclosing(item.task)
    if own_boundaries:
        found = _boundaries(item.task, item.kind, item.code)
        if found:
            _catch_boundary(max(found, key=lambda f: f[0])[1], event, item)
            return True
    scope = item.task.workflow
    while scope is not None:
        handlers = _event_subprocesses(workflow, scope, item.kind, item.code, inside)
        holder = workflow.get_task_from_id(scope.parent_task_id) if scope.parent_task_id is not None else None
        outer = _boundaries(holder, item.kind, item.code) if holder is not None else []
        ranked = [(p, 1, h) for p, *h in handlers] + [(p, 0, b) for p, b in outer]
        if ranked:
            best = max(ranked, key=lambda r: (r[0], r[1]))  # ties: the first one drawn (max keeps the first)
            if best[1]:
                name, start = best[2]
                _start(workflow, scope, name, start, event, item, interrupting.get(start.bpmn_id, True))
            else:
                _catch_boundary(best[2], event, item)
            return True
        scope = scope.parent_workflow
    return False


def _code_variables(task_spec: Any, item: Throw) -> dict[str, Any]:
    names = getattr(task_spec, "code_variables", None) or {}
    out = {}
    if names.get("code"):
        out[names["code"]] = item.code
    if names.get("message") and item.kind == "error":
        out[names["message"]] = item.message
    return out


def _catch_boundary(catcher: Any, event: Any, item: Throw) -> None:
    event.payload = {**event.payload, **_code_variables(catcher.task_spec, item)}
    catcher.task_spec.catch(catcher, event)
    catcher.task_spec._update(catcher)
    events._rearm_if_non_interrupting(catcher)


def _start(workflow: Any, scope: Any, name: str, start: Any, event: Any, item: Throw, interrupting: bool) -> None:
    event.payload = {**event.payload, **_code_variables(start, item)}
    events._start_event_subprocess(workflow, scope, name, start, event, interrupting)
    joins = [t for t in scope.tasks.values() if isinstance(t.task_spec, _EndJoin) and t.has_state(_OPEN)]
    for task in joins:  # a throw at the scope's end made its end join ready: it waits for the event subprocess
        if task.state == TaskState.READY:
            task._set_state(TaskState.WAITING)
    if not joins:  # the scope's flow was cancelled before reaching its end: the event subprocess leads there
        instance = max((t for t in scope.tasks.values() if t.task_spec.name == name), key=lambda t: t.last_state_change)
        todo = [instance]
        while todo:  # its path to the scope's end (end join, end), as SpiffWorkflow predicts a path
            task = todo.pop()
            task._sync_children(task.task_spec.outputs, TaskState.FUTURE)
            todo.extend(task.children)
