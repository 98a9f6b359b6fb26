"""Timer start events on SQLite and PostgreSQL: a row per firing, active versions only, each firing once."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from engine.db import firing_rows, governance_rows
from engine.services import incidents, timer_starts
from engine.services.engine_app import IncidentEngine
from tests.conftest import make_settings
from tests.support.events import EVENTS, activate, deploy
from tests.support.incidents import frozen, trail

MONDAY_8 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def reviews(engine: IncidentEngine) -> list[dict]:  # type: ignore[type-arg]
    return incidents.page(engine, procedure="timer_start", limit=100)[0]


def test_weekday_mornings_start_one_review_each(engine: IncidentEngine) -> None:
    with frozen(MONDAY_8) as clock:
        row = deploy(engine, "timer_start")
        assert timer_starts.tick(engine) == 0  # 09:00 is not due yet; the firing is written
        clock.set(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
        assert timer_starts.tick(engine) == 1
        assert timer_starts.tick(engine) == 0  # fired once
        [review] = reviews(engine)
        assert [t["element_id"] for t in review["open_tasks"]] == ["Task_Review"]
        [started] = trail(engine, review["id"], "incident_started")
        assert started["actor"] == "system:timers" and started["data"] == {
            "by": "timer", "start_event": "Start_Weekdays", "due_at": "2026-01-05T09:00:00+00:00", "data": {}}
        clock.set(datetime(2026, 1, 10, 12, 0, tzinfo=UTC))  # Saturday: Tuesday to Friday were missed
        assert timer_starts.tick(engine) == 1  # caught up once, not four times
        assert timer_starts.tick(engine) == 0
        with engine.uow(write=False) as uow:
            due = [(f["due_at"].isoformat()[:10], f["status"]) for f in firing_rows.for_procedure(uow.conn, row["id"])]
        assert due == [("2026-01-05", "fired"), ("2026-01-06", "missed"), ("2026-01-09", "fired"),
                       ("2026-01-12", "pending")]


def test_only_active_versions_fire(engine: IncidentEngine) -> None:
    with frozen(MONDAY_8) as clock:
        draft = deploy(engine, "timer_start", active=False)
        clock.set(datetime(2026, 1, 5, 10, 0, tzinfo=UTC))
        assert timer_starts.tick(engine) == 0 and reviews(engine) == []
        activate(engine, draft)
        assert timer_starts.tick(engine) == 0  # live from 10:00: Tuesday 09:00 is the first firing
        with engine.uow() as uow:
            governance_rows.set_status(uow.conn, draft["id"], "retired")
            uow.commit()
        clock.set(datetime(2026, 1, 6, 9, 0, tzinfo=UTC))
        assert timer_starts.tick(engine) == 0 and reviews(engine) == []
        with engine.uow(write=False) as uow:
            assert [f["status"] for f in firing_rows.for_procedure(uow.conn, draft["id"])] == ["cancelled"]


def test_an_interrupted_firing_is_claimed_again_and_starts_one_incident(engine: IncidentEngine) -> None:
    with frozen(MONDAY_8) as clock:
        deploy(engine, "timer_start")
        timer_starts.schedule_next(engine)
        clock.set(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
        with engine.uow() as uow:  # a scheduler claimed it and died before starting the incident
            assert firing_rows.claim_due(uow.conn, clock.now(), clock.now() + timedelta(minutes=5))
            uow.commit()
        assert timer_starts.fire_due(engine) == 0  # the claim's lease still holds
        clock.advance(timedelta(minutes=6))
        assert timer_starts.fire_due(engine) == 1 and len(reviews(engine)) == 1


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[IncidentEngine]:
    eng = IncidentEngine(make_settings(pg_url))
    yield eng
    eng.db.dispose()


@pytest.mark.postgres
def test_two_schedulers_start_each_firing_once(pg_engine: IncidentEngine) -> None:
    text = (EVENTS / "timer_start.bpmn").read_text().replace("0 0 9 ? * MON-FRI", "R/PT1H")
    with frozen(MONDAY_8) as clock:
        deploy(pg_engine, "timer_start", data=text.encode())
        timer_starts.schedule_next(pg_engine)
        for hour in range(1, 6):
            clock.set(MONDAY_8 + timedelta(hours=hour))
            barrier = threading.Barrier(2)
            counts: list[int] = []

            def run(barrier: threading.Barrier = barrier, counts: list[int] = counts) -> None:
                barrier.wait()
                counts.append(timer_starts.tick(pg_engine))

            threads = [threading.Thread(target=run) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert sum(counts) == 1, (hour, counts)
        assert len(reviews(pg_engine)) == 5
