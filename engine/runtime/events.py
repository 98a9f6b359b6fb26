"""Messages and signals in SpiffWorkflow, made to behave as Camunda 7's: what an incident waits for, and
delivering one event to exactly one wait.

SpiffWorkflow 3.2 delivers an event to every task that catches it (`workflow.catch`), has no interrupting
event subprocesses, lets a non-interrupting boundary event fire only once, and starts a workflow at every
start event at once. Camunda correlates a message to one subscription, keeps a non-interrupting boundary
subscription while its activity runs, cancels the scope when an interrupting event subprocess starts, and
starts an instance at the one start event that was triggered. This module does the Camunda thing with
SpiffWorkflow's own task operations (catch, update, cancel), one wait at a time.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent, EventBasedGateway
from SpiffWorkflow.util.task import TaskState

from .event_specs import WaitState

_SCOPE_NS = uuid.UUID("0b6f4d55-6a37-4c39-9b7e-1a7c5f0e4b12")
_ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
_INTERRUPTED = "interrupted_by"  # on a scope's root task: the event subprocess start that interrupted it


@dataclass(frozen=True)
class AwaitedEvent:
    """One thing an incident waits for: a message or a signal, by name, caught by one BPMN element.

    `task_id` is the SpiffWorkflow task that catches it; for an event subprocess, which SpiffWorkflow only
    creates when its event arrives, it is a stable id made from its scope and start event. `data` are the
    variables visible at the wait (the correlation keys are made from them).
    """

    task_id: str
    element_id: str
    kind: str  # message | signal | trigger (a receive task without a message: a wait state)
    name: str
    data: Mapping[str, Any]


Resolve = Callable[[str, Mapping[str, Any]], str]
_PART = re.compile(r"[$#]\{([^}]*)\}")


def literal(name: str, data: Mapping[str, Any]) -> str:
    return name


def template_resolver(evaluate: Callable[[str, Mapping[str, Any]], Any]) -> Resolve:
    """Resolve names such as `alert-${region}` (Camunda evaluates message and signal names); a part that
    cannot be worked out stays as written."""

    def resolve(name: str, data: Mapping[str, Any]) -> str:
        if "{" not in name:
            return name

        def part(match: re.Match[str]) -> str:
            try:
                return str(evaluate(match.group(1), data))
            except Exception:  # noqa: BLE001 - an unknown variable leaves the name as written
                return match.group(0)

        return _PART.sub(part, name)

    return resolve


@dataclass(frozen=True)
class ThrownSignal:
    """A signal a procedure threw in this step, for every other incident waiting for it."""

    name: str
    element_id: str
    variables: dict[str, Any]


def signal_variables(inputs: tuple[tuple[str, str, str], ...], data: Mapping[str, Any],
                     evaluate: Callable[[str, Mapping[str, Any]], Any]) -> dict[str, Any]:
    """What a thrown signal carries (camunda:in on its event definition): all the thrower's variables
    (`variables="all"`), one variable under a name (`source`/`target`), or an expression's value."""
    carried: dict[str, Any] = {}
    for kind, source, target in inputs:
        if kind == "all":
            carried.update(data)
        elif kind == "source" and source in data:
            carried[target] = data[source]
        elif kind == "expression":
            carried[target] = evaluate(source, data)
    return carried


def kind_of(definition: Any) -> str | None:
    if isinstance(definition, WaitState):
        return "trigger"
    if isinstance(definition, MessageEventDefinition):
        return "message"
    if isinstance(definition, SignalEventDefinition):
        return "signal"
    return None


def _definitions(task: Any) -> Iterator[tuple[Any, str]]:
    """(event definition, catching element id) for each message or signal a waiting task catches."""
    spec = task.task_spec
    definition = spec.event_definition
    if isinstance(definition, MultipleEventDefinition):
        targets = list(spec.outputs) if isinstance(spec, EventBasedGateway) else []
        for index, item in enumerate(definition.event_definitions):
            target = targets[index].bpmn_id if index < len(targets) else spec.bpmn_id
            yield item, target or spec.bpmn_id
    else:
        yield definition, spec.bpmn_id


def _scopes(workflow: Any) -> Iterator[Any]:
    """The top workflow and every embedded subprocess that is running (event subprocesses listen there)."""
    yield workflow
    for sub in workflow.subprocesses.values():
        parent = workflow.get_task_from_id(sub.parent_task_id)
        if parent is not None and parent.state == TaskState.STARTED and not sub.is_completed():
            yield sub


def _event_subprocess_starts(workflow: Any, scope: Any) -> Iterator[tuple[str, Any, Any]]:
    """(event subprocess spec name, start event spec, definition) of the message and signal event
    subprocesses a scope listens on; none once an interrupting one has started there."""
    if scope.task_tree.internal_data.get(_INTERRUPTED):
        return
    for name in getattr(scope.spec.start, "trigger_specs", ()):
        sp_spec = workflow.subprocess_specs.get(name)
        for start in getattr(sp_spec, "bpmn_start_events", ()):
            if kind_of(start.event_definition):
                yield name, start, start.event_definition


def scope_wait_id(scope: Any, start_event_id: str) -> str:
    return str(uuid.uuid5(_SCOPE_NS, f"{scope.task_tree.id}/{start_event_id}"))


def awaited_events(workflow: Any, resolve: Resolve = literal) -> list[AwaitedEvent]:
    """Every message and signal the incident waits for now, one entry per (catching task, name).

    `resolve` works out a name with expressions in it (`alert-${region}`) over the variables at the wait.
    """
    found: dict[tuple[str, str, str], AwaitedEvent] = {}
    for task in workflow.event_manager.tasks.values():
        if not task.has_state(TaskState.WAITING):
            continue
        for definition, element_id in _definitions(task):
            kind = kind_of(definition)
            if kind and definition.name:
                wait = AwaitedEvent(str(task.id), element_id, kind, resolve(definition.name, task.data), task.data)
                found.setdefault((wait.task_id, kind, wait.name), wait)
    for scope in _scopes(workflow):
        for _name, start, definition in _event_subprocess_starts(workflow, scope):
            kind = kind_of(definition)
            assert kind is not None
            data = _latest_data(scope) or scope.task_tree.data
            wait = AwaitedEvent(scope_wait_id(scope, start.bpmn_id), start.bpmn_id, kind,
                                resolve(definition.name, data), data)
            found.setdefault((wait.task_id, kind, wait.name), wait)
    return list(found.values())


def _latest_data(scope: Any) -> dict[str, Any]:
    """The variables of a scope as its most recently finished task left them (what an event subprocess
    started now would see)."""
    finished = [t for t in scope.tasks.values() if t.has_state(TaskState.COMPLETED) and t.task_spec.bpmn_id]
    return dict(max(finished, key=lambda t: t.last_state_change).data) if finished else {}


class NotWaiting(LookupError):
    """The incident no longer waits for this event at this element (another delivery took it)."""


def deliver(workflow: Any, wait_id: str, kind: str, name: str, variables: Mapping[str, Any],
            *, interrupting: Mapping[str, bool], resolve: Resolve = literal) -> str:
    """Let exactly one wait catch the event; returns the BPMN id of the element that caught it.

    `interrupting` says, per event subprocess start event id, whether it interrupts its scope (Camunda's
    isInterrupting, default true). Raises NotWaiting when the wait is gone.
    """
    payload = dict(variables)
    for task in list(workflow.event_manager.tasks.values()):
        if str(task.id) != wait_id or not task.has_state(TaskState.WAITING):
            continue
        for definition, element_id in _definitions(task):
            if kind_of(definition) == kind and resolve(definition.name or "", task.data) == name:
                event = BpmnEvent(definition, payload)
                if not task.task_spec.catches(task, event):
                    break
                task.task_spec.catch(task, event)
                task.task_spec._update(task)
                _rearm_if_non_interrupting(task)
                return str(element_id)
    for scope in _scopes(workflow):
        for sp_name, start, definition in _event_subprocess_starts(workflow, scope):
            if scope_wait_id(scope, start.bpmn_id) == wait_id and kind_of(definition) == kind \
                    and resolve(definition.name, _latest_data(scope) or scope.task_tree.data) == name:
                _start_event_subprocess(workflow, scope, sp_name, start, BpmnEvent(definition, payload),
                                        interrupting.get(start.bpmn_id, True))
                return str(start.bpmn_id)
    raise NotWaiting(f"the incident is not waiting for {kind} {name!r} there")


def _rearm_if_non_interrupting(task: Any) -> None:
    """Camunda keeps a non-interrupting boundary event listening while its activity runs; SpiffWorkflow's
    fires once. Put a fresh waiting copy beside the one that fired (the boundary join cancels it when the
    activity ends)."""
    spec = task.task_spec
    if not isinstance(spec, BoundaryEvent) or spec.cancel_activity or task.parent is None:
        return
    fresh = task.parent._add_child(spec, TaskState.MAYBE)
    fresh.data = dict(task.parent.data)
    spec._predict(fresh)  # its outgoing path, as the boundary split predicts it for the first copy
    fresh._set_state(TaskState.WAITING)
    spec._update(fresh)


def _lead_to_scope_end(scope: Any, sp_name: str) -> None:
    """An interrupting event subprocess ends its scope when it ends (Camunda). The scope's own flow was cancelled
    before it reached the scope's end join, so the event subprocess instance gets that path (to the end join and
    the end, as SpiffWorkflow predicts a path); without it an embedded subprocess stayed open for ever."""
    from SpiffWorkflow.bpmn.specs.control import _EndJoin

    if any(isinstance(t.task_spec, _EndJoin) and not t.has_state(TaskState.FINISHED_MASK) for t in scope.tasks.values()):
        return
    instances = [t for t in scope.tasks.values() if t.task_spec.name == sp_name]
    if not instances:
        return
    todo = [max(instances, key=lambda t: t.last_state_change)]
    while todo:
        task = todo.pop()
        task._sync_children(task.task_spec.outputs, TaskState.FUTURE)
        todo.extend(task.children)


def _start_event_subprocess(workflow: Any, scope: Any, sp_name: str, start: Any, event: Any,
                            interrupting: bool) -> None:
    before = {t.id for t in scope.tasks.values()}
    child_id = scope.spec.start.trigger_wf(scope.task_tree, sp_name)
    sub = workflow.subprocesses.get(child_id)
    if sub is None:  # the event subprocess task exists; its subworkflow is made when it runs
        child = scope.get_task_from_id(child_id)
        child.task_spec._update(child)
        sub = workflow.subprocesses.get(child_id)
    if interrupting:
        scope.task_tree.internal_data[_INTERRUPTED] = start.bpmn_id
        for task in list(scope.tasks.values()):
            if task.id in before and task.id in scope.tasks and task.has_state(_ACTIVE) \
                    and task.task_spec.bpmn_id:
                task.cancel()
        _lead_to_scope_end(scope, sp_name)
    if sub is not None:
        for task in list(sub.tasks.values()):
            if task.task_spec is start and task.has_state(TaskState.READY):
                return  # it went on by itself (a condition already true over the new scope's data)
            if task.task_spec is start and task.has_state(TaskState.WAITING):
                start.catch(task, event)
                start._update(task)
                return
    raise NotWaiting(f"event subprocess {sp_name} could not be started")


def begin_at(workflow: Any, element_id: str, kind: str, variables: Mapping[str, Any]) -> None:
    """Start a fresh workflow at one start event (a message, signal or timer start), never at the others."""
    root = workflow.task_tree
    root.run()
    starts = list(root.children)
    split = [c for c in starts if c.task_spec.name == "StartEventSplit"]
    if split:
        split[0].run()
        starts = list(split[0].children)
    chosen = None
    for task in starts:
        if task.task_spec.bpmn_id == element_id and chosen is None:
            chosen = task
        else:
            task.cancel()
    if chosen is None:
        raise LookupError(f"{element_id} is not a start event of this process")
    if kind in ("timer", "conditional"):
        chosen._ready()
        return
    event = BpmnEvent(chosen.task_spec.event_definition, dict(variables))
    chosen.task_spec.catch(chosen, event)
    chosen.task_spec._update(chosen)
