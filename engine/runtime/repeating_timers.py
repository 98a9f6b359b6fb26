"""A cycle on a non-interrupting boundary timer: each firing is a path of its own, which outlives the activity.

Camunda 7 runs each firing of a repeating non-interrupting boundary timer as a new path beside its activity
and, when the activity ends, deletes the timer but lets the paths already started go on. SpiffWorkflow 3.2
adds each firing as a child of the one waiting timer task, so the activity's end, which cancels that waiting
task, cancelled every path the timer had started too (their open tasks vanished and the incident could report
"completed" with work never done). Here each firing is the timer task itself firing, as a one-off
non-interrupting timer does, and a fresh copy beside it waits for the next moment; the activity's end
cancels only that copy. ISO 8601 repeating intervals (R3/PT1H, R/2026-01-01T09:00Z/P1D) and Quartz cron.
"""
from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.util.task import TaskState

from engine import clock

from .timers import iso_cycle


class RepeatingBoundaryTimer(_spiff_timer.TimerEventDefinition):
    """The cycle of a non-interrupting boundary timer; `event_value` holds {cycles left (-1: without end),
    next moment, interval in seconds}, the form the runner's due_timers reads."""

    def __init__(self, cycle: Any) -> None:
        super().__init__(cycle.name, cycle.expression, description=cycle.description)
        self.schedule = getattr(cycle, "schedule", None)  # a Quartz cron (timers.CronCycleTimer), or None

    def has_fired(self, my_task: Any) -> bool:
        if my_task._get_internal_data("event_fired", False):
            return True
        value = my_task._get_internal_data("event_value")
        if value is None:
            value = self._first(my_task)
            my_task._set_internal_data(event_value=value)
        if value["cycles"] == 0 or datetime.fromisoformat(value["next"]) > clock.now():
            return False
        following = self._following(value)
        if following["cycles"] != 0:
            _wait_again(my_task, following)
        my_task._set_internal_data(event_fired=True)
        return True

    def _first(self, my_task: Any) -> dict[str, Any]:
        from engine.events.schedule import next_firing

        if self.schedule is not None:
            moment = next_firing(self.schedule, clock.now())
            return {"cycles": -1, "next": moment.isoformat(), "duration": 0} if moment else {"cycles": 0}
        cycles, start, duration = iso_cycle(self, my_task)
        return {"cycles": cycles, "next": start.isoformat(), "duration": duration.total_seconds()}

    def _following(self, value: dict[str, Any]) -> dict[str, Any]:
        from engine.events.schedule import next_firing

        left = value["cycles"] - 1 if value["cycles"] > 0 else -1
        if self.schedule is not None:  # the cron's next moment after now (no catch-up), as CronCycleTimer
            moment = next_firing(self.schedule, clock.now())
            return {"cycles": -1, "next": moment.isoformat(), "duration": 0} if moment else {"cycles": 0}
        moment = datetime.fromisoformat(value["next"]) + timedelta(seconds=value["duration"])
        return {"cycles": left, "next": moment.isoformat(), "duration": value["duration"]}


def _wait_again(task: Any, value: dict[str, Any]) -> None:
    """A fresh copy of the timer waits beside the activity for the next moment (the boundary join cancels it
    when the activity ends)."""
    spec = task.task_spec
    fresh = task.parent._add_child(spec, TaskState.MAYBE)
    fresh.data = copy.deepcopy(task.data)
    spec._predict(fresh)
    fresh._set_state(TaskState.WAITING)
    fresh._set_internal_data(event_value=value)
    task.workflow.top_workflow.event_manager.add_task(fresh)


def adopt(task_spec: Any) -> None:
    """A non-interrupting boundary event with a cycle timer (ISO or cron: call after timers.adopt_cron) gets a
    RepeatingBoundaryTimer."""
    definition = getattr(task_spec, "event_definition", None)
    if isinstance(task_spec, BoundaryEvent) and not task_spec.cancel_activity \
            and isinstance(definition, _spiff_timer.CycleTimerEventDefinition):
        task_spec.event_definition = RepeatingBoundaryTimer(definition)
