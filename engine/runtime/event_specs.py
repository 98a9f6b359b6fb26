"""SpiffWorkflow's event specs adjusted once per procedure version (the spec is shared and never serialized).

- A caught message's variables become task data (the Camunda parser's variant stores them under one
  `<task>_Response` key), and BPMN correlation properties are not evaluated (Camunda correlates on the
  business key and variables, which the service matches).
- A receive task without a message is a wait state, as in Camunda: it waits until it is triggered
  (SpiffWorkflow would pass straight through it).
- Thrown messages (intermediate throw and end events) are outbox deliveries, as send tasks are.
- A timer start event of the process fires when the scheduler says so (engine.services.timer_starts); a
  conditional one when POST /api/v1/conditions finds its condition true (engine.services.conditions).
- A Quartz cron timeCycle on any other timer (boundary, event subprocess start) is a CronCycleTimer; a
  cycle on an interrupting boundary timer fires once and interrupts (FirstFiringTimer); on a non-interrupting
  one each firing is a path of its own that outlives the activity (repeating_timers).
- An error or escalation throw event records its throw for engine.runtime.error_events (Camunda's walk).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import EndEvent, IntermediateThrowEvent, ReceiveTask
from SpiffWorkflow.bpmn.specs.event_definitions.base import EventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.camunda.specs.event_definitions import (
    MessageEventDefinition as CamundaMessageEventDefinition,
)

from . import conditions, repeating_timers, timers


class StartTimer(EventDefinition):
    """A timer start event of the process itself: the scheduler decides when it fires (a firing starts an
    incident there), so SpiffWorkflow never evaluates its schedule (Quartz cron is not an expression)."""

    def __init__(self, name: str | None, expression: str) -> None:
        super().__init__(name)
        self.expression = expression


class StartCondition(EventDefinition):
    """A conditional start event of the process itself: POST /api/v1/conditions evaluates it and starts the
    incident there (engine.services.conditions), so SpiffWorkflow never evaluates it at the start."""

    def __init__(self, name: str | None, expression: str) -> None:
        super().__init__(name)
        self.expression = expression


class WaitState(MessageEventDefinition):
    """What a receive task without a message waits for: to be triggered (Camunda's wait state, named by
    the element's id)."""


class OutboxMessageThrow(IntermediateThrowEvent):
    """A message throw event: left STARTED like a service task, so the outbox delivers the message (a
    webhook or an e-mail); it completes when the delivery is settled. Never delivered inside the engine."""

    def _run_hook(self, my_task: Any) -> None:
        return None


class OutboxMessageEnd(EndEvent):
    """A message end event, delivered through the outbox like OutboxMessageThrow."""

    def _run_hook(self, my_task: Any) -> None:
        return None


def prepare_events(spec: Any, subprocess_specs: Mapping[str, Any]) -> None:
    """Apply the adjustments above to every task spec of a procedure version."""
    from . import error_events  # it imports engine.runtime.events, which imports this module

    for start in spec.bpmn_start_events:
        if isinstance(start.event_definition, TimerEventDefinition):
            start.event_definition = StartTimer(start.event_definition.name, start.event_definition.expression)
        elif isinstance(start.event_definition, ConditionalEventDefinition):
            start.event_definition = StartCondition(start.event_definition.name, start.event_definition.expression)
    for process in [spec, *subprocess_specs.values()]:
        for task_spec in process.task_specs.values():
            definition = getattr(task_spec, "event_definition", None)
            if isinstance(task_spec, ReceiveTask) and isinstance(definition, NoneEventDefinition):
                task_spec.event_definition = definition = WaitState(task_spec.bpmn_id)
            if isinstance(definition, MessageEventDefinition):
                if type(task_spec) is IntermediateThrowEvent:
                    task_spec.__class__ = OutboxMessageThrow
                elif type(task_spec) is EndEvent:
                    task_spec.__class__ = OutboxMessageEnd
            items = definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
            for item in items:
                timers.adopt_cron(item)
            timers.adopt_interrupting_cycle(task_spec)
            error_events.adopt(task_spec)
            repeating_timers.adopt(task_spec)
            conditions.adopt(task_spec)
            for item in items:
                if type(item) is CamundaMessageEventDefinition:
                    item.__class__ = MessageEventDefinition
                if isinstance(item, MessageEventDefinition):
                    item.correlation_properties = []
