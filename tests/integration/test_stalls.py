"""Stuck incidents become `stalled` with the reason: at the end of a transition, and by the periodic sweep."""
from __future__ import annotations

from sqlalchemy import update

from engine.db.tables import incidents as incidents_table
from engine.services import incidents, stall_sweep, tasks
from engine.services.engine_app import IncidentEngine

from ..conftest import FIXTURES
from ..support.incidents import trail
from ..support.procedures import deploy_active

# The upload lint refuses lost_token.bpmn (containment.lost_token); this variant hides the lost token behind
# a pass-through gateway, which the lint does not follow (it is sound, not complete): run time catches it.
LOST = FIXTURES / "bpmn" / "containment" / "lost_token_hidden.bpmn"


def _stalled_incident(engine: IncidentEngine) -> dict:
    # One rule (engine.runtime.stall, issue 11 and issue 12's "nothing left to wait for"): stalled, not error.
    deploy_active(engine, LOST)
    view, _ = incidents.start(engine, procedure="lost_token_hidden", data={"go": 0}, actor="agent")
    assert [t["element_id"] for t in view["open_tasks"]] == ["Task_A"]
    return tasks.complete(engine, view["open_tasks"][0]["id"], {}, actor="agent")


def test_a_join_that_lost_its_token_stalls_the_incident_at_once(engine: IncidentEngine) -> None:
    view = _stalled_incident(engine)
    assert view["status"] == "stalled" and "waits on nothing" in view["error"]
    assert "still open: Join" in view["error"], view["error"]
    assert view["open_tasks"] == []
    [row] = trail(engine, view["id"], "incident_stalled")
    assert row["to_state"] == "stalled" and row["data"]["reason"] == view["error"]
    listed, _ = incidents.page(engine, status="stalled")
    assert [i["id"] for i in listed] == [view["id"]]
    assert incidents.cancel(engine, view["id"], reason="stuck", actor="sup")["status"] == "cancelled"


def test_the_sweep_finds_incidents_stuck_before_the_check(engine: IncidentEngine) -> None:
    view = _stalled_incident(engine)
    with engine.uow() as uow:  # as an incident stuck before this check existed would be
        uow.conn.execute(update(incidents_table).where(incidents_table.c.id == view["id"])
                         .values(status="running", error=None))
        uow.commit()
    deploy_active(engine, FIXTURES / "bpmn" / "events" / "wait_state.bpmn")
    waiting, _ = incidents.start(engine, procedure="wait_state", data={}, actor="agent")
    assert waiting["status"] == "running" and waiting["open_tasks"] == []  # it waits for a message
    assert stall_sweep.sweep(engine) == 1
    swept = incidents.get(engine, view["id"])
    assert swept["status"] == "stalled" and "nothing left to wait for" in swept["error"]
    assert incidents.get(engine, waiting["id"])["status"] == "running"
    assert stall_sweep.sweep(engine) == 0
