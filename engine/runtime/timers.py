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


def install() -> None:
    """Idempotent: point SpiffWorkflow's timer module at the engine clock and our deadline rules."""
    _spiff_timer.datetime = _ClockDatetime  # type: ignore[misc]
    _spiff_timer.DurationTimerEventDefinition.has_fired = _duration_has_fired  # type: ignore[method-assign]
    _spiff_timer.TimeDateEventDefinition.has_fired = _date_has_fired  # type: ignore[method-assign]


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
