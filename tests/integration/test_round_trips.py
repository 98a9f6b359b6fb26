"""The statement budget of a completion on PostgreSQL (issue 15): counted on the wire from libpq's trace, so a
change that adds a statement or a round trip to the hot path fails here instead of slowing down unnoticed."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from engine.db import wire
from engine.errors import Conflict
from engine.identity.principal import Principal
from engine.services import audit_chain, incidents, tasks
from engine.services.engine_app import IncidentEngine
from tests.conftest import make_settings
from tests.support.incidents import MAJOR_LOG, open_task
from tests.support.procedures import deploy_bundled

pytestmark = pytest.mark.postgres

# Each user task of major_incident's normal path and the form that moves it on (checks pass).
PATH = [("Task_LogIncident", MAJOR_LOG),
        ("Task_Triage", {"priority": "P2", "priority_reason": "all inbound queues affected"}),
        ("Task_SendStakeholderUpdate", {"update_sent": True}),
        ("Task_Diagnose", {"root_cause": "SIP trunk certificate expired", "workaround_available": False}),
        ("Task_Resolve", {"resolution": "certificate renewed", "service_restored": True}),
        ("Task_Debrief", {"lessons_learned": "monitor expiry", "actions": "add an alert",
                          "action_owner": "platform team", "actions_due": "2026-03-01"})]
ROUND_TRIPS = 6  # BEGIN and COMMIT included
STATEMENTS = 16  # the Triage step: check result, two tasks, SLA timers, an outbox row


@pytest.fixture
def engine(pg_url: str) -> Iterator[IncidentEngine]:
    eng = IncidentEngine(make_settings(pg_url))
    deploy_bundled(eng)
    yield eng
    eng.db.dispose()


def _next_task(view: dict[str, Any]) -> str:
    names = [t["element_id"] for t in view["open_tasks"]]
    for element_id, _ in PATH:
        if element_id in names:
            return element_id
    raise AssertionError(f"no task of the normal path open: {names}")


def _run(engine: IncidentEngine, principal: Principal, seen: dict[str, wire.Wire] | None) -> dict[str, Any]:
    view, _ = incidents.start(engine, procedure="major_incident",
                              data={"priority": "P2", "summary": "telephony down", "caller_id": "C-1"})
    while view["status"] == "running":
        element_id = _next_task(view)
        task = open_task(view, element_id)
        form = dict(PATH[[e for e, _ in PATH].index(element_id)][1])
        if seen is None:
            view = tasks.complete(engine, task["id"], form, principal=principal)
            continue
        with wire.counting(engine.db) as counted:  # claimed by the caller in the same transaction
            view = tasks.complete(engine, task["id"], form, principal=principal)
        seen[element_id] = counted
    return view


def test_every_completion_of_the_bundled_procedure_takes_at_most_six_round_trips(engine: IncidentEngine) -> None:
    admin = Principal.of("agent-1", ["admin"])
    # As a running server: a statement is prepared (in a round trip of its own) on its 2nd execution on a
    # pooled connection; the debrief's and the check's run once per incident, on one of the connections.
    for _ in range(4):
        _run(engine, admin, None)
    seen: dict[str, wire.Wire] = {}
    view = _run(engine, admin, seen)
    assert view["status"] == "completed"
    assert set(seen) == {e for e, _ in PATH}
    for element_id, counted in seen.items():
        assert counted.round_trips <= ROUND_TRIPS, (element_id, counted.round_trips, counted.sent)
        assert counted.statements <= STATEMENTS, (element_id, counted.statements, counted.sent)
    # the counter counts: a pipelined step still sends BEGIN, the lock, the task read, its writes, COMMIT
    assert min(c.round_trips for c in seen.values()) >= 4
    assert seen["Task_LogIncident"].statements >= 8
    # and nothing was given up for it: every completion and claim audited, the chain whole
    verdict = audit_chain.verify_incident(engine, view["id"])
    assert verdict["valid"] and verdict["unchained"] == 0 and verdict["rows"] == verdict["head_seq"], verdict
    with engine.db.connect() as conn:
        kinds = [r[0] for r in conn.execute(text("SELECT kind FROM audit WHERE incident_id = :i ORDER BY seq"),
                                            {"i": view["id"]})]
        assert kinds.count("task_claimed") == len(PATH)
        assert conn.execute(text("SELECT count(*) FROM tasks WHERE incident_id = :i AND state = 'completed' "
                                 "AND assignee = 'agent-1' AND ended_by = 'agent-1'"),
                            {"i": view["id"]}).scalar() == len(PATH)


def test_a_claim_folded_into_the_end_still_loses_to_an_earlier_claim(engine: IncidentEngine) -> None:
    view, _ = incidents.start(engine, procedure="major_incident",
                              data={"priority": "P2", "summary": "telephony down", "caller_id": "C-1"})
    task = open_task(view, "Task_LogIncident")
    # another agent's claim commits between our read of the row and our compare-and-set (simulated by
    # claiming first: our read still decides to claim, the folded UPDATE then finds the task taken)
    original = tasks.take
    other = Principal.of("agent-2", ["admin"])

    def race(conn: Any, found: dict[str, Any], principal: Principal, at: Any, *args: Any, **kwargs: Any) -> Any:
        with engine.db.connect() as side:
            side.execute(text("UPDATE tasks SET assignee = 'agent-2', claimed_at = now() WHERE id = :t"),
                         {"t": found["id"]})
            side.commit()
        return original(conn, found, principal, at, *args, **kwargs)

    tasks.take = race  # type: ignore[assignment]
    try:
        with pytest.raises(Conflict) as lost:
            tasks.complete(engine, task["id"], dict(MAJOR_LOG), principal=Principal.of("agent-1", ["admin"]))
    finally:
        tasks.take = original  # type: ignore[assignment]
    assert "agent-2" in lost.value.detail
    after = incidents.get(engine, view["id"], principal=other)
    assert open_task(after, "Task_LogIncident")["assignee"] == "agent-2"  # nothing of the loser stayed
    with engine.db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit WHERE task_id = :t AND (kind = 'task_claimed' "
                                 "OR to_state = 'completed')"), {"t": task["id"]}).scalar() == 0
