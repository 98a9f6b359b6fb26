"""Conditional events as Camunda 7 runs them: conditions looked at again whenever the incident's variables change.

SpiffWorkflow 3.2 evaluates a conditional event's condition once, when the event is reached, and never
again (its refresh looks only at timers), so an intermediate conditional catch, a conditional boundary
event or an event subprocess's conditional start waited for ever once its condition was false. Camunda
evaluates each waiting condition when it is reached and again whenever variables are set (a task
completed, a message's or a signal's variables, a service result, a script task's assignments,
`POST .../variables`), narrowed by
`camunda:variableName` (only a change of that variable) and `camunda:variableEvents` (create, update;
`delete` never happens here: variables are not deleted). `refresh` does that on every step that writes
variables, over the waiting condition's data with the written values in it (they are process variables,
visible to every waiting branch). A non-interrupting boundary condition listens again after it fired, as
a non-interrupting message boundary does (engine.runtime.events), but only on the next change. An event
subprocess's conditional start is evaluated when its scope is entered (the incident's start, a token entering
an embedded subprocess: `enter`, once per scope instance) and on every change after; conditional branches of
an event-based gateway are engine.runtime.gateway_conditions'.
"""
from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from engine.expressions import ExpressionError

from . import gateway_conditions as gateways

VARIABLE_EVENTS = frozenset({"create", "update", "delete"})
_ENTERED = "conditions_entered"  # on a scope's root task: its event subprocess conditions were evaluated at entry


def attach(specs: Iterable[Any], filters: Mapping[str, tuple[str | None, frozenset[str]]]) -> None:
    """Give each conditional event definition its camunda:variableName / variableEvents (by element id)."""
    for spec in specs:
        for task_spec in spec.task_specs.values():
            definition = getattr(task_spec, "event_definition", None)
            found = filters.get(getattr(task_spec, "bpmn_id", None) or "")
            if isinstance(definition, ConditionalEventDefinition) and found is not None:
                definition.variable_name, definition.variable_events = found
            # an event-based gateway holds its catch events' definitions, in the order of its outputs
            for item, output in zip(getattr(definition, "event_definitions", ()), task_spec.outputs, strict=False):
                found = filters.get(getattr(output, "bpmn_id", None) or "")
                if isinstance(item, ConditionalEventDefinition) and found is not None:
                    item.variable_name, item.variable_events = found


def _listens(definition: Any, data: Mapping[str, Any], written: Mapping[str, Any]) -> bool:
    """Does a change of these variables concern this condition (variableName / variableEvents)?"""
    name = getattr(definition, "variable_name", None)
    events: frozenset[str] = getattr(definition, "variable_events", frozenset())
    for variable in written:
        if name is not None and variable != name:
            continue
        if not events or ("update" if variable in data else "create") in events:
            return True
    return False


class StartedCondition(ConditionalEventDefinition):
    """The conditional start of an event subprocess: `refresh` decides it fired and starts the subprocess,
    whose start event then goes on at once (SpiffWorkflow would evaluate the condition again over the new
    subprocess's data, which has not got the variables that made it true)."""

    def has_fired(self, my_task: Any) -> bool:
        return bool(my_task._get_internal_data("event_fired", False)) or bool(super().has_fired(my_task))


def adopt(task_spec: Any) -> None:
    """Prepare a conditional start event of an event subprocess, and an event-based gateway's conditional
    branches (call once per version's spec)."""
    definition = getattr(task_spec, "event_definition", None)
    if type(definition) is ConditionalEventDefinition and isinstance(task_spec, StartEvent):
        definition.__class__ = StartedCondition
    gateways.adopt(task_spec)


def _event_subprocess_conditions(workflow: Any, entered: bool | None = None) -> Iterator[tuple[Any, str, Any]]:
    """(scope, event subprocess spec name, start event spec) of each conditional event subprocess start a
    running scope listens on (none once an interrupting event subprocess has started there); `entered`:
    only scopes whose entry was (True) or was not yet (False) looked at."""
    from .events import _INTERRUPTED, _scopes

    for scope in _scopes(workflow):
        if scope.task_tree.internal_data.get(_INTERRUPTED):
            continue
        if entered is not None and bool(scope.task_tree.internal_data.get(_ENTERED)) is not entered:
            continue
        for name in getattr(scope.spec.start, "trigger_specs", ()):
            for start in getattr(workflow.subprocess_specs.get(name), "bpmn_start_events", ()):
                if isinstance(start.event_definition, ConditionalEventDefinition):
                    yield scope, name, start


def listening(workflow: Any) -> list[str]:
    """The BPMN ids of every conditional event the incident waits on now (catch, boundary, event subprocess)."""
    ids = {t.task_spec.bpmn_id for t in waiting_conditions(workflow)}
    ids |= {start.bpmn_id for _scope, _name, start in _event_subprocess_conditions(workflow)}
    ids |= {c.name for t in gateways.waiting_gateways(workflow) for c in gateways.branches(t)}
    return sorted(i for i in ids if i)


def enter(workflow: Any, written: Mapping[str, Any], interrupting: Mapping[str, bool]) -> list[str]:
    """Scopes entered since the last look (the incident at its start, an embedded subprocess a token has
    entered): their conditional event subprocess starts are evaluated once, over the scope's variables and
    `written`, whatever their variableName (Camunda evaluates them when their scope is entered). Returns the
    start events that fired."""
    return _start_subprocesses(workflow, written, interrupting, entering=True)


def _start_subprocesses(workflow: Any, written: Mapping[str, Any], interrupting: Mapping[str, bool],
                        entering: bool = False) -> list[str]:
    from SpiffWorkflow.bpmn import BpmnEvent

    from .events import _INTERRUPTED, _latest_data, _start_event_subprocess

    fired: list[str] = []
    found = list(_event_subprocess_conditions(workflow, entered=not entering))
    for scope, _name, _start in found:
        scope.task_tree.internal_data[_ENTERED] = True
    for scope, name, start in found:
        if scope.task_tree.internal_data.get(_INTERRUPTED):
            continue  # an interrupting one started in this scope just now
        data = _latest_data(scope) or dict(scope.task_tree.data)
        if not entering and not _listens(start.event_definition, data, written):
            continue
        values = {**data, **copy.deepcopy(dict(written))}
        try:
            true = workflow.script_engine.environment.evaluate(start.event_definition.expression, values,
                                                               workflow.data_objects) is True
        except ExpressionError as err:  # the incident fails naming it (the runner's rule), never a 500
            raise WorkflowException(f"the condition of {start.bpmn_id} ({start.event_definition.expression}) "
                                    f"could not be evaluated: {err}") from err
        if true:
            _start_event_subprocess(workflow, scope, name, start, BpmnEvent(start.event_definition, dict(written)),
                                    interrupting.get(start.bpmn_id, True))
            fired.append(start.bpmn_id)
    return fired


def waiting_conditions(workflow: Any) -> list[Any]:
    """The tasks waiting on a conditional event now."""
    return [t for t in workflow.event_manager.tasks.values()
            if t.has_state(TaskState.WAITING)
            and isinstance(getattr(t.task_spec, "event_definition", None), ConditionalEventDefinition)]


def refresh(workflow: Any, written: Mapping[str, Any], interrupting: Mapping[str, bool]) -> list[str]:
    """Evaluate every waiting condition that listens to a change of `written`; returns the BPMN ids of the
    events that fired. `interrupting`: per event subprocess start event id, whether it interrupts. Scopes not
    entered yet are left to `enter`."""
    fired: list[str] = []
    if not written:
        return fired
    fired += _start_subprocesses(workflow, written, interrupting)
    for task in list(gateways.waiting_gateways(workflow)):
        listening = [c for c in gateways.branches(task) if _listens(c, task.data, written)]
        if listening:
            task.data.update(copy.deepcopy(dict(written)))
            caught = gateways.fire_first_true(task, listening)
            if caught is not None:
                task._ready()  # not task_spec._update: it would copy the parent's data over the task's
                fired.append(caught)
    for task in waiting_conditions(workflow):
        if not task.has_state(TaskState.WAITING) or not _listens(task.task_spec.event_definition, task.data, written):
            continue
        task.data.update(copy.deepcopy(dict(written)))
        # not task_spec._update: SpiffWorkflow's update copies the parent's data over the task's first
        definition = task.task_spec.event_definition
        if task.workflow.script_engine.evaluate(task, definition.expression,
                                                external_context=task.workflow.data_objects):
            task._ready()
            fired.append(task.task_spec.bpmn_id)
            _listen_again(task)
    return fired


def _listen_again(task: Any) -> None:
    """A non-interrupting boundary condition that fired waits for the next change beside its activity
    (the boundary join cancels it when the activity ends); it is not evaluated again until then."""
    spec = task.task_spec
    if not isinstance(spec, BoundaryEvent) or spec.cancel_activity or task.parent is None:
        return
    fresh = task.parent._add_child(spec, TaskState.MAYBE)
    fresh.data = copy.deepcopy(task.data)
    spec._predict(fresh)
    fresh._set_state(TaskState.WAITING)
    task.workflow.top_workflow.event_manager.add_task(fresh)


def spread(workflow: Any, written: Mapping[str, Any]) -> None:
    """Variables set on the incident from outside (not by a task): every open or waiting task gets them,
    so what runs next sees them, as Camunda's process variables are seen everywhere."""
    open_states = TaskState.READY | TaskState.WAITING | TaskState.STARTED
    conditional = {t.id for t in waiting_conditions(workflow)}  # `refresh` gives them the values, and tells
    conditional |= {t.id for t in gateways.waiting_gateways(workflow)}
    for scope in [workflow, *workflow.subprocesses.values()]:  # a created variable from an updated one
        for task in scope.tasks.values():
            if task.has_state(open_states) and task.task_spec.bpmn_id and task.id not in conditional:
                task.data.update(copy.deepcopy(dict(written)))
