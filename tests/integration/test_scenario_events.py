"""Scenario steps that reach an incident from outside: messages, signals and external-task workers.

Each goes through the engine's own service (messages.correlate, signals.broadcast, fetchAndLock and its
complete / BPMN error / failure) inside the isolated engine, so a scenario exercises the same correlation,
boundary events and error handling as a live incident, and the live database is never touched.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from engine.db.tables import audit, external_tasks, incidents
from engine.errors import Invalid
from engine.services import procedures, scenario_tests
from engine.services.engine_app import IncidentEngine
from tests.conftest import FIXTURES

EVENTS = FIXTURES / "bpmn" / "events"
CHARGE = (FIXTURES / "bpmn" / "external_charge.bpmn").read_bytes()


def _run(engine: IncidentEngine, bpmn: bytes, scenarios: str) -> dict[str, Any]:
    row, _ = procedures.deploy(engine, bpmn, actor="dana")
    scenario_tests.upload(engine, row["key"], row["version"], scenarios.encode(), actor="dana")
    return scenario_tests.run(engine, row["key"], row["version"], actor="dana")


def _by_name(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in run["scenarios"]}


def _live_rows(engine: IncidentEngine) -> int:
    with engine.uow(write=False) as uow:
        return sum(int(uow.conn.execute(select(func.count()).select_from(t)).scalar() or 0)
                   for t in (incidents, audit, external_tasks))


def test_messages_move_the_incident_through_catch_events_receive_tasks_and_boundaries(
        engine: IncidentEngine) -> None:
    run = _run(engine, (EVENTS / "message_waits.bpmn").read_bytes(), """
scenarios:
  - name: called back, documents in
    steps:
      - complete: Task_Review
        expect: {open: []}
      - message: customerCalledBack
      - message: documentsReceived
        data: {documents: 3}
    expect: {status: completed, end_event: End, variables: {documents: 3}, path: [Catch_Callback, Receive_Documents]}
  - name: withdrawn while in review
    steps:
      - message: caseWithdrawn
    expect: {status: completed, end_event: End_Withdrawn, not_visited: [Catch_Callback]}
  - name: more information keeps the review open
    steps:
      - message: customerInfo
        expect: {open: [Task_Review, Task_ReadInfo]}
      - complete: Task_ReadInfo
      - message: caseWithdrawn
    expect: {status: completed}
  - name: a message nobody waits for fails the scenario
    steps:
      - message: documentsReceived
""")
    found = _by_name(run)
    assert [found[n]["failure"] for n in list(found)[:3]] == [None, None, None], run
    failure = found["a message nobody waits for fails the scenario"]["failure"]
    assert failure["step"] == "1" and "no incident waits" in failure["message"] and failure["line"] == 24
    kinds = [row["kind"] for row in found["called back, documents in"]["audit"]]
    assert kinds.count("message_correlated") == 2
    assert {r["actor"] for r in found["called back, documents in"]["audit"] if r["kind"] == "message_correlated"} \
        == {"scenario-test"}
    covered = {f["flow"] for f in run["coverage"]["flows"] if f["covered"]}
    assert {"Flow_W", "Flow_I", "Flow_I2", "Flow_3", "Flow_4"} <= covered
    assert _live_rows(engine) == 0


def test_signals_reach_boundaries_catch_events_and_event_subprocesses(engine: IncidentEngine) -> None:
    run = _run(engine, (EVENTS / "signal_waits.bpmn").read_bytes(), """
scenarios:
  - name: a major incident is declared while the case is handled
    steps:
      - signal: majorIncident
        expect: {open: [Task_Handle, Task_TellCustomer]}
      - complete: Task_TellCustomer
      - complete: Task_Handle
      - signal: serviceRestored
    expect: {status: completed, end_event: [End_Told, End_Case]}
  - name: cases frozen
    steps:
      - signal: casesFrozen
        expect: {open: [Task_Archive]}
      - complete: Task_Archive
    expect: {status: completed, end_event: End_Frozen}
  - name: an undeclared signal is refused
    steps:
      - signal: nobodyListens
""")
    found = _by_name(run)
    assert found["a major incident is declared while the case is handled"]["failure"] is None, run
    assert found["cases frozen"]["failure"] is None, run
    refused = found["an undeclared signal is refused"]["failure"]
    assert "no procedure declares a signal named 'nobodyListens'" in refused["message"]
    assert _live_rows(engine) == 0


def test_external_tasks_are_fetched_and_completed_errored_or_failed_as_a_worker_would(
        engine: IncidentEngine) -> None:
    run = _run(engine, CHARGE, """
scenarios:
  - name: charged
    start: {amount: 12}
    steps:
      - service: Task_Charge
        data: {receipt: R-1}
        expect: {open: [Task_Confirm], variables: {receipt: R-1}}
      - complete: Task_Confirm
    expect: {status: completed, end_event: End_Done}
  - name: declined
    start: {amount: 12}
    steps:
      - service: Task_Charge
        outcome: error
        code: CARD_DECLINED
        expect: {open: [Task_HandleDecline]}
      - complete: Task_HandleDecline
    expect: {status: completed, end_event: End_Declined}
  - name: the worker fails with no retries left
    start: {amount: 12}
    steps:
      - service: Task_Charge
        outcome: failed
    expect: {status: running, open: []}
  - name: an error code no boundary catches
    start: {amount: 12}
    steps:
      - service: Task_Charge
        outcome: error
        code: NO_SUCH_CODE
""")
    found = _by_name(run)
    assert [found[n]["failure"] for n in ("charged", "declined", "the worker fails with no retries left")] \
        == [None, None, None], run
    kinds = [r["kind"] for r in found["declined"]["audit"]]
    assert kinds.index("external_task_locked") < kinds.index("external_task_bpmn_error")
    assert "external_task_failed" in [r["kind"] for r in found["the worker fails with no retries left"]["audit"]]
    uncaught = found["an error code no boundary catches"]["failure"]
    assert uncaught["message"] == ("no error boundary event or error event subprocess catches error code "
                                  "'NO_SUCH_CODE' thrown at Task_Charge")
    assert uncaught["line"] == 29
    assert run["coverage"]["uncovered_flows"] == []
    assert _live_rows(engine) == 0


def test_an_error_outcome_needs_its_code_and_only_it_takes_one(engine: IncidentEngine) -> None:
    row, _ = procedures.deploy(engine, CHARGE, actor="dana")
    bad = b"""scenarios:
  - name: no code
    steps:
      - service: Task_Charge
        outcome: error
  - name: a code without an error
    steps:
      - service: Task_Charge
        code: X
"""
    try:
        scenario_tests.upload(engine, row["key"], row["version"], bad, actor="dana")
    except Invalid as err:
        lines = sorted(p.line for p in err.problems if p.field and p.field.endswith(".code"))
        assert lines == [4, 9], [p.as_dict() for p in err.problems]
    else:
        raise AssertionError("the scenario file was accepted")
