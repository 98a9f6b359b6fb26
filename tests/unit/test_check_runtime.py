"""Check gateways in the runner, without a database: check events, overrides, pending timers."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from engine import clock
from engine.bpmn.parser import load_procedure
from engine.runtime.check_gateway import CheckGateway, prepare_checks
from engine.runtime.override import NothingToOverride
from engine.runtime.procedure import RuntimeProcedure, prepare_spec
from engine.runtime.runner import Outcome, Runner
from engine.runtime.script_engine import SafeScriptEngine

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def now() -> Iterator[clock.FixedClock]:
    fixed = clock.FixedClock()
    token = clock.use(fixed)
    yield fixed
    clock.reset(token)


def _runner(path: Path) -> Runner:
    definition = load_procedure(path.read_bytes())
    prepare_spec(definition.spec, definition.subprocess_specs)
    prepare_checks(definition)
    runtime = RuntimeProcedure("id", definition.key, 1, "sha", definition, definition.spec,
                               definition.subprocess_specs)
    return Runner(runtime, SafeScriptEngine())


def _complete(runner: Runner, outcome: Outcome, element_id: str, values: dict[str, object]) -> Outcome:
    [task] = [t for t in outcome.open_tasks if t.element_id == element_id]
    return runner.complete(outcome.state, task.id, values)


def _open(outcome: Outcome) -> list[str]:
    return sorted(t.element_id for t in outcome.open_tasks)


def _breach_failed(runner: Runner, now: clock.FixedClock) -> Outcome:
    outcome = runner.start({"aware_at": now.now().isoformat(), "summary": "lost laptop"})
    outcome = _complete(runner, outcome, "Task_LogBreach", {
        "breach_description": "laptop", "data_categories": "contact", "records_affected": 40,
        "awareness_recorded": True})
    return _complete(runner, outcome, "Task_AssessRisk", {
        "risk_level": "low", "risk_assessed": False, "awareness_recorded": True})


def test_only_check_gateways_become_check_gateways() -> None:
    runner = _runner(ROOT / "bpmn" / "data_breach.bpmn")
    swapped = {s.bpmn_id for s in runner.procedure.spec.task_specs.values() if isinstance(s, CheckGateway)}
    assert swapped == {"Gateway_RiskAssessedCheck"}


def test_each_evaluation_reports_the_check_with_the_values_read(now: clock.FixedClock) -> None:
    runner = _runner(ROOT / "bpmn" / "data_breach.bpmn")
    outcome = _breach_failed(runner, now)
    [event] = [t for t in outcome.transitions if t.kind.startswith("check_")]
    assert event.kind == "check_failed" and event.to_state == "failed"
    assert event.element_id == "Gateway_RiskAssessedCheck"
    assert event.data == {"check": "risk_assessed", "passed": False, "flow": "Flow_RiskAssessmentFailed",
                          "target": "Task_AssessRisk",
                          "values": {"awareness_recorded": True, "risk_assessed": False, "risk_level": "low"}}
    kinds = [t.kind for t in outcome.transitions]
    assert kinds.index("check_failed") == kinds.index("gateway") + 1


def test_an_override_drops_the_rework_and_its_timer_and_takes_the_pass_flow(now: clock.FixedClock) -> None:
    runner = _runner(ROOT / "bpmn" / "data_breach.bpmn")
    outcome = runner.override_check(_breach_failed(runner, now).state, "Gateway_RiskAssessedCheck")
    assert _open(outcome) == ["Task_NotifyIco"]
    cancelled = [(t.element_id, t.from_state) for t in outcome.transitions if t.to_state == "cancelled"]
    assert cancelled == [("Task_AssessRisk", "ready"), ("BoundaryEvent_AssessRisk72h", "waiting")]
    [event] = [t for t in outcome.transitions if t.kind.startswith("check_")]
    assert event.kind == "check_overridden" and event.data is not None
    assert event.data["flow"] == "Flow_RiskAssessedPassed" and event.data["passed"] is True
    now.advance(timedelta(hours=73))  # the dropped timer must not fire; the new task's timer does
    fired = runner.fire_timers(outcome.state)
    assert [t.element_id for t in fired.transitions if t.kind == "timer_fired"] == ["BoundaryEvent_NotifyIco72h"]
    assert _open(fired) == ["Task_EscalateToDpo", "Task_NotifyIco"]


def test_nothing_to_override_when_the_check_passed_or_was_never_reached(now: clock.FixedClock) -> None:
    runner = _runner(ROOT / "bpmn" / "data_breach.bpmn")
    started = runner.start({"aware_at": now.now().isoformat()})
    with pytest.raises(NothingToOverride):
        runner.override_check(started.state, "Gateway_RiskAssessedCheck")
    overridden = runner.override_check(_breach_failed(runner, now).state, "Gateway_RiskAssessedCheck")
    with pytest.raises(NothingToOverride):
        runner.override_check(overridden.state, "Gateway_RiskAssessedCheck")


def test_a_fail_path_that_already_ended_cannot_be_overridden(now: clock.FixedClock, tmp_path: Path) -> None:
    text = (ROOT / "tests" / "fixtures" / "bpmn" / "lint" / "required_check_pass.bpmn").read_text()
    text = text.replace('sourceRef="Gateway_Check" targetRef="Task_Fix"', 'sourceRef="Gateway_Check" '
                        'targetRef="End_Escalated"')
    path = tmp_path / "fail_ends_in_escalation.bpmn"
    path.write_text(text)
    runner = _runner(path)
    outcome = runner.start({})
    outcome = _complete(runner, outcome, "Task_Log", {"verified": False, "urgent": False})
    assert outcome.status == "completed"
    with pytest.raises(NothingToOverride):
        runner.override_check(outcome.state, "Gateway_Check")


def test_a_named_fail_flow_with_a_condition_works_and_can_be_overridden() -> None:
    runner = _runner(ROOT / "tests" / "fixtures" / "bpmn" / "lint" / "check_flows_pass.bpmn")
    outcome = _complete(runner, runner.start({}), "Task_Approve", {"approved": False})
    assert [t.kind for t in outcome.transitions if t.kind.startswith("check_")] == ["check_failed"]
    assert _open(outcome) == ["Task_Approve"]
    outcome = runner.override_check(outcome.state, "Gateway_Check")
    assert outcome.status == "completed"
    assert [t.kind for t in outcome.transitions if t.kind.startswith("check_")] == ["check_overridden"]
