"""Scenario runs in the engine itself: the real services on an isolated in-memory database, clock moved.

Each test uploads a procedure and its scenario file to the live database (SQLite and PostgreSQL), runs the
suite and reads the stored run. The live database never gets an incident, a task or an audit row.
"""
from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.config import Topic
from engine.db.tables import audit, incidents, tasks, timers
from engine.services import procedures, scenario_tests
from engine.services.engine_app import IncidentEngine
from tests.conftest import BUNDLED, FIXTURES

SIMPLE_BPMN = (FIXTURES / "bpmn" / "simple_flow.bpmn").read_bytes()
SIMPLE_SCENARIOS = (FIXTURES / "scenarios" / "simple_flow.yaml").read_bytes()
MAJOR_START = "{priority: P1, summary: switch down, caller_id: C-1}"
MAJOR_LOG = "{summary: switch down, caller_id: C-1, identity_verified: true}"


def _run(engine: IncidentEngine, bpmn: bytes, scenarios: str | bytes) -> dict[str, Any]:
    row, _ = procedures.deploy(engine, bpmn, actor="dana")
    raw = scenarios.encode() if isinstance(scenarios, str) else scenarios
    scenario_tests.upload(engine, row["key"], row["version"], raw, actor="dana")
    return scenario_tests.run(engine, row["key"], row["version"], actor="dana")


def _live_rows(engine: IncidentEngine) -> int:
    with engine.uow(write=False) as uow:
        return sum(int(uow.conn.execute(select(func.count()).select_from(t)).scalar() or 0)
                   for t in (incidents, tasks, audit, timers))


def _by_name(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in run["scenarios"]}


def test_a_passing_suite_reports_paths_audit_and_full_coverage_without_touching_live_data(
        engine: IncidentEngine) -> None:
    run = _run(engine, SIMPLE_BPMN, SIMPLE_SCENARIOS)
    assert run["status"] == "passed" and (run["passed"], run["failed"]) == (2, 0)
    first = _by_name(run)["checked first time"]
    assert first["path"][:4] == ["Start", "Task_Log", "Gateway_Check", "Split"] and first["path"][-1] == "End"
    kinds = [row["kind"] for row in first["audit"]]
    assert kinds[0] == "incident_started" and "check_passed" in kinds and kinds[-1] == "incident_completed"
    assert {row["actor"] for row in first["audit"] if row["kind"] == "incident_started"} == {"scenario-test"}
    assert run["coverage"]["uncovered_flows"] == []
    assert run["coverage"]["totals"]["flows"] == run["coverage"]["totals"]["flows_covered"] == 12
    assert _live_rows(engine) == 0


def test_coverage_names_the_flows_no_passing_scenario_took(engine: IncidentEngine) -> None:
    happy_only = SIMPLE_SCENARIOS.decode().split("  - name: fixed after a failed check")[0]
    run = _run(engine, SIMPLE_BPMN, happy_only)
    assert run["status"] == "passed"
    assert run["coverage"]["uncovered_flows"] == ["Flow_Fail", "Flow_3"]
    outcomes = {(c["check"], c["outcome"]): c["covered"] for c in run["coverage"]["check_outcomes"]}
    assert outcomes == {("checked", "passed"): True, ("checked", "failed"): False}
    branches = {f["flow"]: f["covered"] for b in run["coverage"]["gateway_branches"] for f in b["flows"]}
    assert branches == {"Flow_Pass": True, "Flow_Fail": False}


def test_bad_scenarios_fail_alone_with_the_step_line_and_first_difference(engine: IncidentEngine) -> None:
    run = _run(engine, SIMPLE_BPMN, """
scenarios:
  - name: unknown element
    steps:
      - complete: Task_Nowhere
  - name: form refuses the data
    steps:
      - complete: Task_Log
        data: {summary: 42}
  - name: task not open
    steps:
      - complete: Task_Close
  - name: wrong expectation
    steps:
      - complete: Task_Log
        data: {summary: s, ok: true}
        expect:
          open: [Task_A]
  - name: never ends
    max_steps: 10
    steps:
      - complete: Task_Log
        data: {summary: s, ok: false}
      - repeat: 100
        steps:
          - complete: Task_Fix
            data: {ok: false}
  - name: still fine
    steps:
      - complete: Task_Log
        data: {summary: s, ok: true}
    expect: {open: [Task_A, Task_B]}
""")
    assert (run["passed"], run["failed"]) == (1, 5) and run["status"] == "failed"
    found = {name: s["failure"] for name, s in _by_name(run).items()}
    assert found["unknown element"]["message"] == "the procedure has no element Task_Nowhere"
    assert found["unknown element"]["line"] == 5 and found["unknown element"]["step"] == "1"
    assert found["form refuses the data"]["line"] == 8
    assert {p["field"] for p in found["form refuses the data"]["problems"]} >= {"summary", "ok"}
    assert "Task_Close is not open (open tasks: Task_Log)" in found["task not open"]["message"]
    wrong = found["wrong expectation"]
    assert (wrong["what"], wrong["expected"], wrong["actual"]) == ("open", ["Task_A"], ["Task_A", "Task_B"])
    assert wrong["line"] == 18 and wrong["message"].startswith("after step 1:")
    assert "step cap (10)" in found["never ends"]["message"] and found["never ends"]["step"] == "2[9].1"
    assert found["still fine"] is None


def test_timers_fire_when_the_clock_is_moved_never_waited(engine: IncidentEngine) -> None:
    began = time.monotonic()
    run = _run(engine, (BUNDLED / "major_incident.bpmn").read_bytes(), f"""
scenarios:
  - name: diagnosis overdue
    start: {MAJOR_START}
    steps:
      - complete: Task_LogIncident
        data: {MAJOR_LOG}
      - complete: Task_Triage
        data: {{priority: P1, priority_reason: outage}}
      - wait: PT10M
        expect: {{open: [Task_Diagnose, Task_SendStakeholderUpdate]}}
      - timer: BoundaryEvent_DiagnosisSla
        expect: {{open: [Task_Diagnose, Task_SendStakeholderUpdate, Task_EscalateDiagnosis]}}
      - complete: Task_EscalateDiagnosis
        data: {{escalated_to: on-call lead}}
    expect:
      status: running
      open: [Task_Diagnose, Task_SendStakeholderUpdate]
      end_event: EndEvent_Escalated
      sla_breached: [BoundaryEvent_DiagnosisSla]
      checks: {{triage_complete: passed}}
  - name: not armed
    start: {MAJOR_START}
    steps:
      - timer: BoundaryEvent_DiagnosisSla
""")
    assert time.monotonic() - began < 30
    result = _by_name(run)
    assert result["diagnosis overdue"]["failure"] is None, result["diagnosis overdue"]["failure"]
    breach = [r for r in result["diagnosis overdue"]["audit"] if r["kind"] == "sla_breached"]
    assert breach and breach[0]["data"]["timer"] == "BoundaryEvent_DiagnosisSla"
    assert result["not armed"]["failure"]["message"] == "timer BoundaryEvent_DiagnosisSla is not armed (armed: none)"


def test_overrides_errors_and_waiting_service_tasks_run_through_the_real_services(database_url: str) -> None:
    from tests.conftest import make_settings

    topic = Topic("notify-stakeholders", "wait", url="http://127.0.0.1:9/never-called")
    engine = IncidentEngine(make_settings(database_url, outbox_topics={topic.name: topic}, loop_cap=5))
    try:
        run = _run(engine, SIMPLE_BPMN, """
scenarios:
  - name: supervisor override
    steps:
      - complete: Task_Log
        data: {summary: s, ok: false}
      - override: checked
        reason: caller known to the desk
    expect:
      open: [Task_A, Task_B]
      checks: {checked: [failed, overridden]}
  - name: the loop cap puts the incident in error
    steps:
      - complete: Task_Log
        data: {summary: s, ok: false}
      - repeat: 6
        steps:
          - complete: Task_Fix
            data: {ok: false}
    expect: {status: error, error: loop cap}
""")
        assert run["failed"] == 1
        found = _by_name(run)
        assert found["supervisor override"]["failure"] is None
        capped = found["the loop cap puts the incident in error"]["failure"]
        assert "the incident is error: loop cap reached" in capped["message"]
        major = _run(engine, (BUNDLED / "major_incident.bpmn").read_bytes(), f"""
scenarios:
  - name: notification delivered
    start: {MAJOR_START}
    steps:
      - complete: Task_LogIncident
        data: {MAJOR_LOG}
      - complete: Task_Triage
        data: {{priority: P2, priority_reason: one site}}
        expect: {{open: [Task_Diagnose]}}
      - service: Task_NotifyStakeholders
    expect: {{open: [Task_Diagnose, Task_SendStakeholderUpdate]}}
  - name: notification refused
    start: {MAJOR_START}
    steps:
      - complete: Task_LogIncident
        data: {MAJOR_LOG}
      - complete: Task_Triage
        data: {{priority: P2, priority_reason: one site}}
      - service: Task_NotifyStakeholders
        outcome: failed
    expect: {{status: error, error: delivery}}
""")
        assert [s["failure"] for s in major["scenarios"]] == [None, None]
    finally:
        engine.db.dispose()


def test_a_message_the_procedure_does_not_declare_fails_its_scenario(engine: IncidentEngine) -> None:
    run = _run(engine, SIMPLE_BPMN, "scenarios:\n  - name: m\n    steps:\n      - message: Message_Reply\n")
    assert "no procedure declares a message named 'Message_Reply'" in run["scenarios"][0]["failure"]["message"]


@pytest.mark.parametrize("status", ["approved", "active"])
def test_the_suite_of_an_approved_version_cannot_change(engine: IncidentEngine, status: str) -> None:
    from engine.db import governance_rows
    from engine.errors import Conflict

    row, _ = procedures.deploy(engine, SIMPLE_BPMN, actor="dana")
    with engine.uow() as uow:
        governance_rows.set_status(uow.conn, row["id"], status)
        uow.commit()
    with pytest.raises(Conflict):
        scenario_tests.upload(engine, "simple_flow", 1, SIMPLE_SCENARIOS, actor="dana")


def test_runs_are_listed_newest_first_and_judge_the_current_suite(engine: IncidentEngine) -> None:
    first = _run(engine, SIMPLE_BPMN, SIMPLE_SCENARIOS)
    scenario_tests.upload(engine, "simple_flow", 1, b"scenarios:\n  - name: only one\n", actor="dana")
    second = scenario_tests.run(engine, "simple_flow", 1, actor="dana")
    listed = scenario_tests.runs(engine, "simple_flow", 1)
    assert [r["id"] for r in listed] == [second["id"], first["id"]]
    assert second["suite_id"] != first["suite_id"] and second["passed"] == 1
    assert "scenarios" not in listed[0] and listed[0]["coverage_totals"]["flows_covered"] == 1
    assert scenario_tests.get_run(engine, "simple_flow", 1, first["id"])["coverage"]["uncovered_flows"] == []


def test_scenarios_past_the_run_budget_fail_with_the_reason(engine: IncidentEngine) -> None:
    from engine.scenarios.format import parse
    from engine.services.scenario_runs import run_suite

    row, _ = procedures.deploy(engine, SIMPLE_BPMN, actor="dana")
    results = run_suite(engine, row, SIMPLE_BPMN, parse(SIMPLE_SCENARIOS), budget_seconds=0)
    assert [r.passed for r in results] == [False, False]
    assert results[0].failure is not None and "time budget" in results[0].failure.message
