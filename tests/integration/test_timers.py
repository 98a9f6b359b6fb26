"""Durable timers on SQLite and PostgreSQL: written with the transition, fired once, audited, SLA breaches."""
from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.db import timer_rows
from engine.runtime.runner import Runner
from engine.services import incidents
from engine.services.engine_app import IncidentEngine
from engine.services.timers import fire_due_timers

from ..conftest import FIXTURES, make_settings
from ..support.incidents import (
    complete,
    deploy_bundled,
    frozen,
    is_open,
    major_in_diagnosis,
    open_task,
    trail,
)
from ..support.procedures import deploy_active


def timers_of(engine: IncidentEngine, incident_id: str) -> list[dict[str, Any]]:
    with engine.uow(write=False) as uow:
        return timer_rows.for_incident(uow.conn, incident_id)


def test_a_boundary_timer_is_written_with_the_transition_that_arms_it(engine: IncidentEngine) -> None:
    deploy_bundled(engine)
    with frozen() as now:
        view = major_in_diagnosis(engine, "P2")
        [row] = timers_of(engine, view["id"])
        assert (row["element_id"], row["attached_to"], row["status"]) == ("BoundaryEvent_DiagnosisSla", "Task_Diagnose", "pending")
        assert row["is_sla"] is True and row["interrupting"] is False
        assert row["due_at"] == now.now() + timedelta(hours=2)
        assert view["next_timer_at"] == row["due_at"] == open_task(view, "Task_Diagnose")["due_at"]
        now.advance(timedelta(hours=1, minutes=59))
        assert fire_due_timers(engine) == 0
        assert timers_of(engine, view["id"])[0]["status"] == "pending"


def test_a_non_interrupting_sla_timer_fires_once_and_records_the_breach(engine: IncidentEngine) -> None:
    deploy_bundled(engine)
    with frozen() as now:
        view = major_in_diagnosis(engine, "P1")
        now.advance(timedelta(minutes=31))
        assert fire_due_timers(engine) == 1
        assert fire_due_timers(engine) == 0  # nothing left: a second tick is a no-op
        view = incidents.get(engine, view["id"])
        assert is_open(view, "Task_Diagnose") and is_open(view, "Task_EscalateDiagnosis")
        [fired] = trail(engine, view["id"], "timer_fired")
        assert (fired["element_id"], fired["actor"], fired["to_state"]) == ("BoundaryEvent_DiagnosisSla", "system:timers", "completed")
        [breach] = trail(engine, view["id"], "sla_breached")
        assert breach["element_id"] == "Task_Diagnose" and breach["element_name"] == "Diagnose"
        assert breach["task_id"] == open_task(view, "Task_Diagnose")["id"]
        assert breach["data"]["late_by_seconds"] == 60
        assert breach["data"]["due_at"] == "2026-01-05T09:30:00+00:00"
        assert breach["data"]["timer"] == "BoundaryEvent_DiagnosisSla" and breach["data"]["interrupting"] is False
        [row] = timers_of(engine, view["id"])
        assert row["status"] == "fired" and row["fired_at"] == now.now()
        assert view["next_timer_at"] is None


def test_a_timer_is_cancelled_when_its_task_finishes_first(engine: IncidentEngine) -> None:
    deploy_bundled(engine)
    with frozen() as now:
        view = major_in_diagnosis(engine, "P3")
        now.advance(timedelta(hours=1))
        view = complete(engine, view, "Task_Diagnose", {"root_cause": "bad config"})
        [row] = timers_of(engine, view["id"])
        assert row["status"] == "cancelled" and row["cancelled_at"] == now.now()
        now.advance(timedelta(days=2))
        assert fire_due_timers(engine) == 0
        assert trail(engine, view["id"], "timer_fired") == []


def test_an_interrupting_timer_cancels_its_task_and_takes_the_timeout_path(engine: IncidentEngine) -> None:
    deploy_bundled(engine)
    # received Wed 23 Dec 2026 10:00 UTC: the third business day after it, skipping Christmas Day and
    # the Boxing Day substitute (Mon 28 Dec), is Wed 30 Dec; close of business 17:00 (GMT)
    with frozen(datetime(2026, 12, 24, 9, 0, tzinfo=UTC)) as now:
        view, _ = incidents.start(engine, procedure="customer_complaint",
                                  data={"received_at": "2026-12-23T10:00:00+00:00", "customer_name": "A",
                                        "channel": "phone"})
        view = complete(engine, view, "Task_AcknowledgeComplaint",
                        {"acknowledged": True, "customer_email": "a@example.com", "contact_verified": True})
        attempt = open_task(view, "Task_TryToResolve")
        deadline = datetime(2026, 12, 30, 17, 0, tzinfo=UTC)
        assert attempt["due_at"] == deadline
        now.set(deadline)
        assert fire_due_timers(engine) == 1
        view = incidents.get(engine, view["id"])
        assert not is_open(view, "Task_TryToResolve")
        investigate = open_task(view, "Task_Investigate")
        # the 8-week clock runs from receipt too, not from when Investigate started
        assert investigate["due_at"] == datetime(2027, 2, 17, 10, 0, tzinfo=UTC)
        [breach] = trail(engine, view["id"], "sla_breached")
        assert breach["element_id"] == "Task_TryToResolve" and breach["task_id"] == attempt["id"]
        assert breach["data"]["interrupting"] is True and breach["data"]["late_by_seconds"] == 0
        cancelled = [r for r in trail(engine, view["id"], "task")
                     if r["element_id"] == "Task_TryToResolve" and r["to_state"] == "cancelled"]
        assert len(cancelled) == 1
        statuses = sorted(r["status"] for r in timers_of(engine, view["id"]))
        assert statuses == ["fired", "pending"]  # the 3-day clock fired; the 8-week clock now waits


def test_a_deadline_already_past_when_reached_fires_at_once(engine: IncidentEngine) -> None:
    deploy_bundled(engine)
    with frozen() as now:
        aware = (now.now() - timedelta(days=4)).isoformat()  # 72 h ran out a day ago
        view, _ = incidents.start(engine, procedure="data_breach", data={"aware_at": aware, "summary": "laptop lost"})
        view = complete(engine, view, "Task_LogBreach", {"breach_description": "laptop lost", "data_categories":
                                                          "contact", "records_affected": 40, "awareness_recorded": True})
        assert is_open(view, "Task_AssessRisk") and is_open(view, "Task_EscalateToDpo")
        [breach] = trail(engine, view["id"], "sla_breached")
        assert breach["element_id"] == "Task_AssessRisk"
        assert breach["data"]["late_by_seconds"] == 24 * 3600
        assert [r["status"] for r in timers_of(engine, view["id"])] == ["fired"]
        assert fire_due_timers(engine) == 0


def test_an_intermediate_timer_event_waits_durably(engine: IncidentEngine) -> None:
    deploy_active(engine, FIXTURES / "bpmn" / "timer_wait.bpmn")
    with frozen() as now:
        view, _ = incidents.start(engine, procedure="timer_wait")
        view = complete(engine, view, "Task_Contact", {})
        assert view["open_tasks"] == [] and view["next_timer_at"] == now.now() + timedelta(days=1)
        [row] = timers_of(engine, view["id"])
        assert (row["element_id"], row["attached_to"], row["is_sla"]) == ("Timer_CoolingOff", None, False)
        now.advance(timedelta(days=1, seconds=1))
        assert fire_due_timers(engine) == 1
        view = incidents.get(engine, view["id"])
        assert is_open(view, "Task_FollowUp")
        assert trail(engine, view["id"], "sla_breached") == []
        assert len(trail(engine, view["id"], "timer_fired")) == 1


def test_timers_of_a_cancelled_incident_never_fire(engine: IncidentEngine) -> None:
    deploy_bundled(engine)
    with frozen() as now:
        view = major_in_diagnosis(engine, "P1")
        incidents.cancel(engine, view["id"], reason="duplicate")
        assert [r["status"] for r in timers_of(engine, view["id"])] == ["cancelled"]
        now.advance(timedelta(hours=1))
        assert fire_due_timers(engine) == 0


@pytest.mark.postgres
def test_two_tickers_at_once_fire_each_timer_exactly_once(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two beats (or two workers) by mistake: SKIP LOCKED gives each incident to exactly one of them."""
    engines = [IncidentEngine(make_settings(pg_url)) for _ in range(2)]
    deploy_bundled(engines[0])
    original = Runner.fire_timers

    def slow(self: Runner, state: str) -> Any:
        time.sleep(0.02)  # widen the window in which both tickers look at the same due rows
        return original(self, state)

    monkeypatch.setattr(Runner, "fire_timers", slow)
    try:
        with frozen() as now:
            ids = [major_in_diagnosis(engines[0], "P1")["id"] for _ in range(6)]
            now.advance(timedelta(hours=1))
            barrier = threading.Barrier(2)
            counts: list[int] = []

            def tick(engine: IncidentEngine) -> None:
                barrier.wait()
                counts.append(fire_due_timers(engine))

            threads = [threading.Thread(target=tick, args=(e,)) for e in engines]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            assert sum(counts) == len(ids)
            for incident_id in ids:
                assert len(trail(engines[0], incident_id, "timer_fired")) == 1
                assert len(trail(engines[0], incident_id, "sla_breached")) == 1
                view = incidents.get(engines[0], incident_id)
                assert [t["element_id"] for t in view["open_tasks"]].count("Task_EscalateDiagnosis") == 1
    finally:
        for e in engines:
            e.db.dispose()


def test_two_tickers_on_sqlite_fire_each_timer_exactly_once(tmp_path: Any, sqlite_template: Any) -> None:
    import shutil

    path = tmp_path / "e.sqlite3"
    shutil.copy(sqlite_template, path)
    engines = [IncidentEngine(make_settings(f"sqlite:///{path}")) for _ in range(2)]
    deploy_bundled(engines[0])
    with frozen() as now:
        ids = [major_in_diagnosis(engines[0], "P1")["id"] for _ in range(4)]
        now.advance(timedelta(hours=1))
        barrier = threading.Barrier(2)
        counts: list[int] = []

        def tick(engine: IncidentEngine) -> None:
            barrier.wait()
            counts.append(fire_due_timers(engine))

        threads = [threading.Thread(target=tick, args=(e,)) for e in engines]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sum(counts) == len(ids)
        assert all(len(trail(engines[0], i, "timer_fired")) == 1 for i in ids)
    for e in engines:
        e.db.dispose()
