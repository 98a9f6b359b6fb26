"""Signals through the engine services, on SQLite and PostgreSQL: broadcast in bounded batches, start events."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from engine import clock
from engine.db import broadcast_rows
from engine.db.tables import signal_broadcasts
from engine.errors import Invalid
from engine.services import incidents, signals
from engine.services.engine_app import IncidentEngine
from tests.conftest import make_settings
from tests.support.events import deploy
from tests.support.incidents import complete, is_open, trail


@pytest.fixture
def engine(database_url: str) -> Iterator[IncidentEngine]:
    eng = IncidentEngine(make_settings(database_url, signal_batch=2))
    yield eng
    eng.db.dispose()


def case(engine: IncidentEngine, reference: str, **data: Any) -> dict[str, Any]:
    view, _ = incidents.start(engine, procedure="signal_waits", reference=reference, data=data, actor="agent")
    return view


def test_a_signal_reaches_every_waiting_incident_in_batches_and_starts_one(engine: IncidentEngine) -> None:
    deploy(engine, "signal_waits")
    deploy(engine, "signal_start")
    cases = [case(engine, f"S{n}") for n in range(5)]
    done = complete(engine, case(engine, "S-done"), "Task_Handle", {})  # waits at the catch, not the boundary
    result = signals.broadcast(engine, name="majorIncident", variables={"outage": "payments"}, actor="duty")
    assert (result["reached"], result["started"], result["batches"], result["batch_size"]) == (5, 1, 3, 2)
    for view in cases:
        now = incidents.get(engine, view["id"])
        assert is_open(now, "Task_TellCustomer") and is_open(now, "Task_Handle")
        [received] = trail(engine, view["id"], "signal_received")
        assert received["actor"] == "duty" and received["data"]["variables"] == {"outage": "payments"}
    assert not trail(engine, done["id"], "signal_received")
    [coordinator] = incidents.page(engine, procedure="signal_start")[0]
    assert coordinator["data"] == {"outage": "payments"} and is_open(coordinator, "Task_Coordinate")
    assert trail(engine, coordinator["id"], "incident_started")[0]["data"]["by"] == "signal"


def test_a_signal_nobody_waits_for_reaches_nobody_and_unknown_names_are_refused(engine: IncidentEngine) -> None:
    deploy(engine, "signal_waits")
    assert signals.broadcast(engine, name="serviceRestored")["reached"] == 0
    with pytest.raises(Invalid, match="no procedure declares a signal named 'serviceRestord'"):
        signals.broadcast(engine, name="serviceRestord")
    with pytest.raises(Invalid):
        signals.broadcast(engine, name="majorIncident", variables=["x"])


def test_a_signal_thrown_by_a_procedure_reaches_the_others_after_its_transition(engine: IncidentEngine) -> None:
    deploy(engine, "signal_waits")
    deploy(engine, "signal_start")
    waiting = [complete(engine, case(engine, f"W{n}"), "Task_Handle", {}) for n in range(3)]
    coordinator, _ = incidents.start(engine, procedure="signal_start", reference="C1", data={}, actor="duty")
    coordinator = complete(engine, coordinator, "Task_Coordinate", {})
    assert coordinator["status"] == "completed"
    [thrown] = trail(engine, coordinator["id"], "signal_thrown")
    assert thrown["data"] == {"signal": "serviceRestored", "variables": {}}
    with engine.uow(write=False) as uow:  # recorded in the thrower's transaction, delivered afterwards
        [row] = uow.conn.execute(select(signal_broadcasts)).mappings().all()
    assert row["status"] == "pending" and row["origin_incident_id"] == coordinator["id"]
    assert signals.deliver_pending(engine) == 1
    assert all(incidents.get(engine, w["id"])["status"] == "completed" for w in waiting)
    assert signals.deliver_pending(engine) == 0


def test_a_signal_reaches_only_the_incidents_waiting_when_it_was_sent(engine: IncidentEngine) -> None:
    deploy(engine, "signal_waits")
    early = case(engine, "E1")
    with engine.uow() as uow:
        row = broadcast_rows.queue(uow.conn, "majorIncident", {}, actor="duty", at=clock.now())
        uow.commit()
    late = case(engine, "L1")
    assert signals.deliver(engine, row["id"])["reached"] == 1
    assert trail(engine, early["id"], "signal_received") and not trail(engine, late["id"], "signal_received")


def test_an_interrupting_signal_event_subprocess(engine: IncidentEngine) -> None:
    deploy(engine, "signal_waits")
    view = case(engine, "F1")
    assert signals.broadcast(engine, name="casesFrozen")["reached"] == 1
    now = incidents.get(engine, view["id"])
    assert [t["element_id"] for t in now["open_tasks"]] == ["Task_Archive"]
    assert signals.broadcast(engine, name="majorIncident")["reached"] == 0  # the boundary went with its task
