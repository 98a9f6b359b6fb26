"""Makes SpiffWorkflow's timers read our clock (engine.clock) and our ISO 8601 arithmetic, and lists waiting timers.

SpiffWorkflow computes timer deadlines and decides whether they fired with `datetime.now(timezone.utc)`
inside its timer module and offers no clock injection. We replace that module's `datetime` name with a
subclass whose `now()` asks the active engine clock. Duration and date timers also get our own
`has_fired`: a deadline fires when it is reached (`<=`, so `PT0S` fires at once even on a frozen test
clock), and a negative duration (`-PT3600S`, what `from_time` returns for a deadline already past) keeps
the true deadline, so the firing can say how late it is.
"""
from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer

from engine import clock
from engine.calendar import parse_signed_duration


class _ClockDatetime(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> Any:  # type: ignore[override]
        current = clock.now()
        return current.astimezone(tz) if tz is not None else current.astimezone(UTC).replace(tzinfo=None)


def _fire_if_reached(task: Any, deadline: datetime) -> bool:
    if deadline <= clock.now():
        task._set_internal_data(event_fired=True)
    return bool(task._get_internal_data("event_fired", False))


def _duration_has_fired(self: Any, my_task: Any) -> bool:
    event_value = my_task._get_internal_data("event_value")
    if event_value is None:
        expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
        try:
            event_value = parse_signed_duration(str(expression), clock.now()).isoformat()
        except ValueError as err:
            raise WorkflowTaskException(f"timer {self.name or ''}: {err}".strip(), task=my_task,
                                        exception=err) from err
        my_task._set_internal_data(event_value=event_value)
    return _fire_if_reached(my_task, _spiff_timer.TimerEventDefinition.get_datetime(event_value))


def _date_has_fired(self: Any, my_task: Any) -> bool:
    event_value = my_task._get_internal_data("event_value")
    if event_value is None:
        event_value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
        my_task._set_internal_data(event_value=event_value)
    try:
        deadline = _spiff_timer.TimerEventDefinition.parse_time_or_duration(event_value)
    except Exception as err:  # noqa: BLE001 - SpiffWorkflow raises bare Exception on a bad value
        raise WorkflowTaskException(f"timer {self.name or ''}: {event_value!r} is not an ISO 8601 date-time",
                                    task=my_task, exception=err) from err
    if not isinstance(deadline, datetime):
        raise WorkflowTaskException(f"timer {self.name or ''}: a timeDate needs a date-time, not a duration",
                                    task=my_task)
    return _fire_if_reached(my_task, deadline)


def iso_cycle(definition: Any, my_task: Any) -> tuple[int, datetime, Any]:
    """(repeats, -1 without end; first moment; interval) of a timeCycle written as an ISO 8601 repeating
    interval, evaluated now; anything else (an expression that gives null, a bad interval) fails naming it."""
    expression = my_task.workflow.script_engine.evaluate(my_task, definition.expression)
    try:
        if not isinstance(expression, str):
            raise TypeError(type(expression).__name__)
        cycles, start, duration = _spiff_timer.TimerEventDefinition.parse_iso_recurring_interval(expression)
    except Exception as err:  # noqa: BLE001 - SpiffWorkflow raises bare Exception for a bad interval
        raise WorkflowTaskException(f"timer {definition.name or ''}: the timeCycle {definition.expression!r} gave "
                                    f"{expression!r}, not an ISO 8601 repeating interval (R/PT1H, "
                                    "R3/2026-01-01T09:00Z/P1D)", task=my_task, exception=err) from err
    return int(cycles), start, duration


def _cycle_complete(self: Any, my_task: Any) -> bool:
    """SpiffWorkflow's cycle timer, with its first evaluation checked (a null crashed it: AttributeError)."""
    if my_task._get_internal_data("event_value") is None:
        cycles, start, duration = iso_cycle(self, my_task)
        my_task._set_internal_data(event_value={"cycles": cycles, "next": start.isoformat(),
                                                "duration": duration.total_seconds()})
    return bool(_SPIFF_CYCLE_COMPLETE(self, my_task))


_SPIFF_CYCLE_COMPLETE = _spiff_timer.CycleTimerEventDefinition.cycle_complete


class CronCycleTimer(_spiff_timer.CycleTimerEventDefinition):
    """A timeCycle written as Quartz cron (`0 0 9 ? * MON-FRI`) on a boundary timer or an event subprocess's
    timer start: it repeats for ever, each firing at the cron's next moment after now (as Camunda reschedules
    a repeating timer job). Swapped in for SpiffWorkflow's cycle timer by `adopt_cron`, which could only read
    ISO 8601 repeating intervals."""

    schedule: Any

    def cycle_complete(self, my_task: Any) -> bool:
        from engine.events.schedule import next_firing

        now = clock.now()
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            first = next_firing(self.schedule, now)
            event_value = {"cycles": -1, "next": first.isoformat(), "duration": 0} if first else {"cycles": 0}
        ready = False
        if event_value["cycles"] != 0:
            if datetime.fromisoformat(event_value["next"]) <= now:
                following = next_firing(self.schedule, now)
                event_value = {"cycles": -1, "next": following.isoformat(), "duration": 0} if following \
                    else {"cycles": 0}
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
            return False
        my_task._set_internal_data(event_value=event_value)
        return ready


def adopt_cron(definition: Any) -> None:
    """Make a cycle timer whose text is a Quartz cron a CronCycleTimer (the spec is per version, never
    serialized); other definitions are left as they are."""
    from engine.events.schedule import CRON_MIN_INTERVAL, is_cron, parse_cron

    if type(definition) is _spiff_timer.CycleTimerEventDefinition and is_cron(definition.expression or ""):
        definition.__class__ = CronCycleTimer
        definition.schedule = parse_cron(definition.expression, CRON_MIN_INTERVAL)


class FirstFiringTimer(_spiff_timer.TimerEventDefinition):
    """A cycle (ISO 8601 or Quartz cron) on an interrupting boundary timer: it fires once, at the cycle's first
    moment, and interrupts its activity, as in Camunda. SpiffWorkflow's cycle timer added a path per firing
    beside the activity and never interrupted (and predicted no outgoing path, so the flow stopped)."""

    def __init__(self, cycle: Any) -> None:
        super().__init__(cycle.name, cycle.expression, description=cycle.description)
        self.schedule = getattr(cycle, "schedule", None)

    def has_fired(self, my_task: Any) -> bool:
        if my_task._get_internal_data("event_fired", False):
            return True
        deadline = my_task._get_internal_data("event_value")
        if deadline is None:
            deadline = self._first(my_task)
            if deadline is None:
                return False
            my_task._set_internal_data(event_value=deadline)
        return _fire_if_reached(my_task, _spiff_timer.TimerEventDefinition.get_datetime(deadline))

    def _first(self, my_task: Any) -> str | None:
        from engine.events.schedule import next_firing

        if self.schedule is not None:
            moment = next_firing(self.schedule, clock.now())
            return moment.isoformat() if moment is not None else None
        _cycles, start, _duration = iso_cycle(self, my_task)
        return str(start.isoformat())


def adopt_interrupting_cycle(task_spec: Any) -> None:
    """An interrupting boundary event with a cycle timer gets a FirstFiringTimer (call after adopt_cron)."""
    definition = getattr(task_spec, "event_definition", None)
    if getattr(task_spec, "cancel_activity", False) and isinstance(definition,
                                                                  _spiff_timer.CycleTimerEventDefinition):
        task_spec.event_definition = FirstFiringTimer(definition)


def install() -> None:
    """Idempotent: point SpiffWorkflow's timer module at the engine clock and our deadline rules."""
    _spiff_timer.datetime = _ClockDatetime  # type: ignore[misc]
    _spiff_timer.DurationTimerEventDefinition.has_fired = _duration_has_fired  # type: ignore[method-assign]
    _spiff_timer.TimeDateEventDefinition.has_fired = _date_has_fired  # type: ignore[method-assign]
    _spiff_timer.CycleTimerEventDefinition.cycle_complete = _cycle_complete  # type: ignore[method-assign]


def parse_deadline(value: Any) -> datetime | None:
    """A timer's stored deadline (ISO 8601 text; naive means UTC) as an aware UTC datetime, or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def due_timers(workflow: Any) -> list[tuple[Any, datetime]]:
    """(timer task, deadline) for every timer the workflow is waiting on."""
    found = []
    for task in workflow.event_manager.tasks.values():
        value = task.internal_data.get("event_value")
        if isinstance(value, str):
            try:
                found.append((task, _spiff_timer.TimerEventDefinition.get_datetime(value)))
            except ValueError:
                continue
        elif isinstance(value, dict) and "next" in value:
            found.append((task, datetime.fromisoformat(value["next"])))
    return found


install()
