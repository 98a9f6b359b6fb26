"""The budget of one transition: a runaway model puts its incident in error naming the budget, promptly."""
from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from engine.services import incidents
from engine.services.engine_app import IncidentEngine
from engine.services.timers import fire_due_timers

from ..conftest import FIXTURES, make_settings
from ..support.incidents import frozen, trail
from ..support.procedures import deploy_active

HERE = FIXTURES / "bpmn" / "containment"


def _engine(database_url: str, **overrides: Any) -> IncidentEngine:
    return IncidentEngine(make_settings(database_url, **overrides))


def _start(engine: IncidentEngine, name: str, data: dict[str, Any]) -> dict[str, Any]:
    deploy_active(engine, HERE / f"{name}.bpmn")
    view, _ = incidents.start(engine, procedure=name, data=data, actor="agent")
    return view


def test_a_zero_length_cycle_from_data_is_stopped_by_the_time_budget(database_url: str) -> None:
    engine = _engine(database_url, transition_wall_ms=200, automatic_step_cap=10**7, cycle_cap=10**7)
    try:
        started = time.monotonic()
        view = _start(engine, "runaway_cycle", {"cycle": "R/PT0S"})
        assert time.monotonic() - started < 10  # not minutes: the run stopped at its budget
        assert view["status"] == "error"
        assert "time budget exceeded" in view["error"] or "CPU budget exceeded" in view["error"]
        [failed] = trail(engine, view["id"], "incident_error")
        assert "budget" in failed["data"]["reason"]
        assert view["open_tasks"] == []  # the tasks of an incident in error leave the queues
    finally:
        engine.db.dispose()


def test_the_step_budget_and_the_cycle_cap_name_themselves(database_url: str) -> None:
    engine = _engine(database_url, automatic_step_cap=100, cycle_cap=10**7, transition_wall_ms=600_000,
                     transition_cpu_ms=60_000)
    try:
        view = _start(engine, "runaway_cycle", {"cycle": "R/PT0S"})
        assert view["status"] == "error" and "step budget exceeded" in view["error"], view["error"]
    finally:
        engine.db.dispose()
    engine = _engine(database_url, cycle_cap=5, transition_wall_ms=600_000, transition_cpu_ms=60_000)
    try:
        view, _ = incidents.start(engine, procedure="runaway_cycle", data={"cycle": "R/PT0S"}, reference="again",
                                  actor="agent")
        assert view["status"] == "error" and "cycle cap reached" in view["error"], view["error"]
    finally:
        engine.db.dispose()


def test_a_half_hour_reminder_fires_past_the_loop_cap_without_killing_the_incident(database_url: str) -> None:
    engine = _engine(database_url, loop_cap=5)
    try:
        with frozen() as now:
            view = _start(engine, "reminder_cycle", {})
            for _ in range(12):  # more firings than LOOP_CAP passes
                now.advance(timedelta(minutes=31))
                fire_due_timers(engine)
            view = incidents.get(engine, view["id"])
            assert view["status"] == "running", view.get("error")
            reminders = [r for r in trail(engine, view["id"]) if r["element_id"] == "Script_Remind"]
            assert len(reminders) == 12  # each firing ran the reminder path once
            assert [t["element_id"] for t in view["open_tasks"]] == ["Task_Work"]
    finally:
        engine.db.dispose()


def test_state_and_task_data_budgets(database_url: str) -> None:
    engine = _engine(database_url, max_state_bytes=20_000)
    try:
        view = _start(engine, "plain_task", {"notes": "x" * 30_000})
        assert view["status"] == "error" and "state size budget exceeded" in view["error"], view["error"]
    finally:
        engine.db.dispose()
    engine = _engine(database_url, max_task_data_bytes=10_000)
    try:
        view, _ = incidents.start(engine, procedure="plain_task", data={"notes": "x" * 15_000}, reference="2",
                                  actor="agent")
        assert view["status"] == "error" and "task data budget exceeded: task Task_Work" in view["error"]
    finally:
        engine.db.dispose()


def test_a_plain_task_passes_straight_through(engine: IncidentEngine) -> None:
    view = _start(engine, "plain_task", {})
    assert view["status"] == "running"
    assert [t["element_id"] for t in view["open_tasks"]] == ["Task_Work"]
    assert any(row["element_id"] == "Task_Plain" and row["to_state"] == "completed"
               for row in trail(engine, view["id"]))


def test_the_tasks_of_an_incident_in_error_leave_the_queues(engine: IncidentEngine) -> None:
    from engine.services import tasks

    view = _start(engine, "fail_in_parallel", {"zero": 0})
    assert sorted(t["element_id"] for t in view["open_tasks"]) == ["Task_A", "Task_B"]
    task_a = next(t for t in view["open_tasks"] if t["element_id"] == "Task_A")
    failed = tasks.complete(engine, task_a["id"], {}, actor="agent")
    assert failed["status"] == "error", failed
    listed, _cursor = tasks.page(engine, state="ready")
    assert [t for t in listed if t["incident_id"] == view["id"]] == []
