"""Driving incidents through the engine services in tests (no HTTP)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from engine import clock
from engine.services import audit, incidents, tasks
from engine.services.engine_app import IncidentEngine

from .procedures import deploy_bundled as _deploy_bundled

MAJOR_LOG = {"summary": "switch down", "caller_id": "C-1", "identity_verified": True}


@contextmanager
def frozen(at: datetime = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)) -> Iterator[clock.FixedClock]:
    """A FixedClock for this thread and every other thread of the process (workers, schedulers)."""
    fixed = clock.FixedClock(at)
    token = clock.use(fixed)
    clock.set_default(fixed)
    try:
        yield fixed
    finally:
        clock.set_default(None)
        clock.reset(token)


def deploy_bundled(engine: IncidentEngine) -> None:
    """The bundled procedures, active (tests/support/procedures.py)."""
    _deploy_bundled(engine)


def open_task(view: dict[str, Any], element_id: str) -> dict[str, Any]:
    found = [t for t in view["open_tasks"] if t["element_id"] == element_id]
    assert found, f"{element_id} not open; open: {[t['element_id'] for t in view['open_tasks']]}"
    return found[0]


def is_open(view: dict[str, Any], element_id: str) -> bool:
    return any(t["element_id"] == element_id for t in view["open_tasks"])


def complete(engine: IncidentEngine, view: dict[str, Any], element_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return tasks.complete(engine, open_task(view, element_id)["id"], data, actor="tester")


def major_in_diagnosis(engine: IncidentEngine, priority: str = "P1", *, test: bool = False) -> dict[str, Any]:
    """A major incident (a test incident with `test`) triaged with `priority`: Diagnose is open with its SLA
    timer armed."""
    view, _ = incidents.start(engine, procedure="major_incident", test=test,
                              data={"priority": priority, "summary": "switch down", "caller_id": "C-1"})
    view = complete(engine, view, "Task_LogIncident", MAJOR_LOG)
    return complete(engine, view, "Task_Triage", {"priority": priority, "priority_reason": "outage"})


def trail(engine: IncidentEngine, incident_id: str, kind: str | None = None) -> list[dict[str, Any]]:
    rows = audit.for_incident(engine, incident_id)
    return [r for r in rows if kind is None or r["kind"] == kind]
