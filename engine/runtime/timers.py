"""Makes SpiffWorkflow's timers read our clock (engine.clock) instead of the wall clock.

SpiffWorkflow computes timer deadlines and decides whether they fired with `datetime.now(timezone.utc)`
inside its timer module and offers no clock injection. We replace that module's `datetime` name with a
subclass whose `now()` asks the active engine clock; everything else about datetime is unchanged.
"""
from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer

from engine import clock


class _ClockDatetime(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> Any:  # type: ignore[override]
        current = clock.now()
        return current.astimezone(tz) if tz is not None else current.astimezone(UTC).replace(tzinfo=None)


def install() -> None:
    """Idempotent: point SpiffWorkflow's timer module at the engine clock."""
    _spiff_timer.datetime = _ClockDatetime  # type: ignore[misc]


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
