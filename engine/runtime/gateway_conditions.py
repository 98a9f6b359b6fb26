"""Conditional catch events after an event-based gateway, as Camunda 7 runs them.

SpiffWorkflow 3.2 moves the event definitions of the catch events after an event-based gateway into the
gateway (a MultipleEventDefinition) and leaves each catch a none event; it evaluates timers there but never a
condition, so a conditional branch waited for ever (the incident stalled: "nothing left to wait for"). Here
the gateway's conditions are evaluated when the gateway is reached and again whenever variables it listens to
are set (engine.runtime.conditions.refresh, same camunda:variableName / variableEvents rules as a plain
conditional catch); the first true one takes its branch, as a message or timer branch would. Each condition
is named after its catch event, so the gateway can tell two conditional branches apart.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.util.task import TaskState

_ARRIVED = "conditions_evaluated"  # on a gateway task: its conditions were evaluated when it was reached


class BranchCondition(ConditionalEventDefinition):
    """The condition of one catch event after an event-based gateway, named by that catch event's id."""

    def __eq__(self, other: object) -> bool:
        return type(other) is BranchCondition and other.name == self.name and other.expression == self.expression

    __hash__ = None  # type: ignore[assignment]


class GatewayConditions(MultipleEventDefinition):
    """An event-based gateway's events, with its conditional branches evaluated when it is reached."""

    def has_fired(self, my_task: Any) -> bool:
        if not my_task._get_internal_data(_ARRIVED, False):
            my_task._set_internal_data(**{_ARRIVED: True})
            fire_first_true(my_task, branches(my_task))
        return bool(super().has_fired(my_task))


def adopt(task_spec: Any) -> None:
    """Give an event-based gateway with conditional branches GatewayConditions (once per version's spec)."""
    definition: Any = getattr(task_spec, "event_definition", None)
    if not isinstance(task_spec, EventBasedGateway) or type(definition) is not MultipleEventDefinition:
        return
    found = False
    for index, (item, output) in enumerate(zip(definition.event_definitions, task_spec.outputs, strict=False)):
        if type(item) is ConditionalEventDefinition:
            named = BranchCondition(item.expression, name=output.bpmn_id, description=item.description)
            for attr in ("variable_name", "variable_events"):  # camunda:variableName / variableEvents
                if hasattr(item, attr):
                    setattr(named, attr, getattr(item, attr))
            definition.event_definitions[index] = named
            found = True
    if found:
        definition.__class__ = GatewayConditions


def branches(task: Any) -> list[BranchCondition]:
    """The conditions a waiting gateway task listens on."""
    definition = task.task_spec.event_definition
    return [d for d in definition.event_definitions if isinstance(d, BranchCondition)] \
        if isinstance(definition, GatewayConditions) else []


def waiting_gateways(workflow: Any) -> Iterator[Any]:
    for task in workflow.event_manager.tasks.values():
        if task.has_state(TaskState.WAITING) and isinstance(task.task_spec.event_definition, GatewayConditions):
            yield task


def fire_first_true(task: Any, conditions: list[BranchCondition]) -> str | None:
    """Evaluate `conditions` over the gateway task's data; the first true one becomes the gateway's seen event
    (its branch is taken when the gateway runs). The catch event's id, or None."""
    for condition in conditions:
        if task.workflow.script_engine.evaluate(task, condition.expression,
                                                external_context=task.workflow.data_objects):
            task._set_internal_data(seen_events=[*task.internal_data.get("seen_events", []),
                                                 BpmnEvent(condition, {})])
            return str(condition.name)
    return None
