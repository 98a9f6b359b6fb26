"""The statement budget of a message correlation on PostgreSQL (issue 12), counted on the wire from libpq's trace
(engine.db.wire), so a change that adds a statement or a round trip to the correlation fails here."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from engine.db import wire
from engine.identity.principal import Principal
from engine.services import audit_chain, incidents, messages
from engine.services.engine_app import IncidentEngine
from tests.conftest import make_settings
from tests.support.events import deploy
from tests.support.incidents import complete, trail

pytestmark = pytest.mark.postgres

# BEGIN, the lookup, the lock (with the waits and the chain head), the writes in one pipeline, COMMIT
ROUND_TRIPS = 5
# ... and the writes: the caught wait out, the receive task's wait in, the incident, the audit rows
STATEMENTS = 8
INTEGRATION = Principal.of("crm", ["integration"])


@pytest.fixture
def engine(pg_url: str) -> Iterator[IncidentEngine]:
    eng = IncidentEngine(make_settings(pg_url))
    deploy(eng, "message_waits")
    yield eng
    eng.db.dispose()


def _waiting(engine: IncidentEngine, n: int) -> dict[str, Any]:
    view, _ = incidents.start(engine, procedure="message_waits", reference=f"R-{n}", data={"case_id": f"C-{n}"})
    return complete(engine, view, "Task_Review", {})


def _by(n: int) -> dict[str, Any]:
    return {"reference": f"R-{n}"} if n % 2 == 0 else {"correlation": {"case_id": f"C-{n}"}}


def test_a_correlation_takes_at_most_five_round_trips_and_keeps_every_guarantee(engine: IncidentEngine) -> None:
    waiting = [_waiting(engine, n) for n in range(14)]
    for n in range(10):  # as a running server: statements are prepared on their 2nd run on a pooled connection
        messages.correlate(engine, name="customerCalledBack", variables={"note": "warm"}, principal=INTEGRATION,
                           **_by(n))
    for n in (10, 11):  # by reference, then by one correlation variable
        with wire.counting(engine.db) as counted:
            result = messages.correlate(engine, name="customerCalledBack", variables={"note": "called"},
                                        principal=INTEGRATION, **_by(n))
        assert counted.round_trips <= ROUND_TRIPS, (n, counted.round_trips, counted.sent)
        assert counted.statements <= STATEMENTS, (n, counted.statements, counted.sent)
        assert counted.round_trips >= 4 and counted.statements >= 6  # the counter counts
        (delivered,) = result["results"]
        assert delivered["element_id"] == "Catch_Callback" and not delivered["started"]
        incident = delivered["incident"]
        assert incident["data"] == {"case_id": f"C-{n}", "note": "called"}
        # nothing was given up for it: audited with the actor, the chain whole, the next wait in place
        (audited,) = trail(engine, waiting[n]["id"], "message_correlated")
        assert audited["actor"] == "crm" and audited["data"]["variables"] == {"note": "called"}
        verdict = audit_chain.verify_incident(engine, waiting[n]["id"])
        assert verdict["valid"] and verdict["unchained"] == 0 and verdict["rows"] == verdict["head_seq"], verdict
        with engine.db.connect() as conn:
            waits = conn.execute(text("SELECT w.element_id, k.name, k.value FROM event_waits w JOIN event_wait_keys "
                                      "k ON k.wait_id = w.id WHERE w.incident_id = :i ORDER BY k.name"),
                                 {"i": waiting[n]["id"]}).all()
        assert [tuple(w) for w in waits] == [("Receive_Documents", "case_id", f'"C-{n}"'),
                                             ("Receive_Documents", "note", '"called"')]
    # the receive task's wait (inserted without reading its id back) is found by its keys and delivered to
    messages.correlate(engine, name="documentsReceived", correlation={"case_id": "C-11"}, principal=INTEGRATION)
    assert incidents.get(engine, waiting[11]["id"])["status"] == "completed"
    with engine.db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM event_waits WHERE incident_id = :i"),
                            {"i": waiting[11]["id"]}).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM event_wait_keys k LEFT JOIN event_waits w ON w.id = k.wait_id "
                                 "WHERE w.id IS NULL")).scalar() == 0


def test_a_message_to_an_incident_with_an_open_task_reads_the_task_rows_once(engine: IncidentEngine) -> None:
    """A boundary message on an open user task: one more read (the open tasks), still one write round trip
    (which now also holds the new task and its offers)."""
    for n in range(10):
        view, _ = incidents.start(engine, procedure="message_waits", reference=f"B-{n}", data={})
        with wire.counting(engine.db) as counted:
            result = messages.correlate(engine, name="customerInfo", reference=f"B-{n}", actor="crm")
    assert counted.round_trips <= ROUND_TRIPS + 1, (counted.round_trips, counted.sent)
    assert counted.statements <= STATEMENTS + 3, (counted.statements, counted.sent)
    opened = [t["element_id"] for t in result["results"][0]["incident"]["open_tasks"]]
    assert sorted(opened) == ["Task_ReadInfo", "Task_Review"]  # the view, from memory, has both
    assert sorted(t["element_id"] for t in incidents.get(engine, view["id"])["open_tasks"]) == sorted(opened)
    # the boundary listens again: a second message is delivered too, to the new wait
    messages.correlate(engine, name="customerInfo", reference="B-9", principal=INTEGRATION)
    assert [t["element_id"] for t in incidents.get(engine, view["id"])["open_tasks"]].count("Task_ReadInfo") == 2
