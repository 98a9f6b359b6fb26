"""BPMN's implicit splits and ends, and undeclared error codes, run with Camunda 7's semantics (engine.bpmn.implicit)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from engine import clock
from engine.bpmn.implicit import GENERATED
from engine.bpmn.parser import load_procedure
from engine.runtime.procedure import RuntimeProcedure, prepare_spec
from engine.runtime.runner import IncidentFailed, Outcome, Runner
from engine.runtime.script_engine import SafeScriptEngine

HEAD = ('<?xml version="1.0" encoding="UTF-8"?><definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" targetNamespace="x">')
START = '<startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="Task_Triage"/>'


def proc(body: str, before: str = "") -> str:
    return f'{HEAD}{before}<process id="p" isExecutable="true">{body}</process></definitions>'


def end_of(*tasks: str) -> str:
    return "".join(f'<userTask id="{t}"/><sequenceFlow id="x_{t}" sourceRef="{t}" targetRef="e_{t}"/>'
                   f'<endEvent id="e_{t}"/>' for t in tasks)


SPLIT = proc(START + """
  <userTask id="Task_Triage"/>
  <sequenceFlow id="f1" sourceRef="Task_Triage" targetRef="Task_Call"/>
  <sequenceFlow id="f2" sourceRef="Task_Triage" targetRef="Task_Mail"/>
  <userTask id="Task_Call"/><sequenceFlow id="f3" sourceRef="Task_Call" targetRef="join"/>
  <userTask id="Task_Mail"/><sequenceFlow id="f4" sourceRef="Task_Mail" targetRef="join"/>
  <parallelGateway id="join"/><sequenceFlow id="f5" sourceRef="join" targetRef="Task_Close"/>""" + end_of("Task_Close"))
CONDITIONED = proc(START + """
  <manualTask id="Task_Triage" DEFAULT/>
  <sequenceFlow id="f1" sourceRef="Task_Triage" targetRef="Task_Low"/>
  <sequenceFlow id="f2" sourceRef="Task_Triage" targetRef="Task_High">
    <conditionExpression>${level &gt;= 2}</conditionExpression></sequenceFlow>
  <sequenceFlow id="f3" sourceRef="Task_Triage" targetRef="Task_Major">
    <conditionExpression>${level &gt;= 3}</conditionExpression></sequenceFlow>""" + end_of("Task_Low", "Task_High", "Task_Major"))
ONE_CONDITION = proc(START + """
  <serviceTask id="Task_Triage" camunda:type="external" camunda:topic="triage"/>
  <sequenceFlow id="f1" sourceRef="Task_Triage" targetRef="Task_After">
    <conditionExpression>${go}</conditionExpression></sequenceFlow>""" + end_of("Task_After"))
TIMER_SPLIT = proc(START + """
  <userTask id="Task_Triage"/><sequenceFlow id="f1" sourceRef="Task_Triage" targetRef="e"/><endEvent id="e"/>
  <boundaryEvent id="Timer_Late" attachedToRef="Task_Triage">
    <timerEventDefinition><timeDuration>PT10S</timeDuration></timerEventDefinition></boundaryEvent>
  <sequenceFlow id="f2" sourceRef="Timer_Late" targetRef="Task_Call"/>
  <sequenceFlow id="f3" sourceRef="Timer_Late" targetRef="Task_Mail"/>""" + end_of("Task_Call", "Task_Mail"))
NO_END = proc("""<startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="Sub_Outer"/>
  <subProcess id="Sub_Outer">
    <startEvent id="s1"/><sequenceFlow id="f1" sourceRef="s1" targetRef="Sub_Inner"/>
    <subProcess id="Sub_Inner">
      <startEvent id="s2"/><sequenceFlow id="f2" sourceRef="s2" targetRef="fork"/>
      <parallelGateway id="fork"/>
      <sequenceFlow id="f3" sourceRef="fork" targetRef="Task_A"/><sequenceFlow id="f4" sourceRef="fork" targetRef="Task_B"/>
      <userTask id="Task_A"/><userTask id="Task_B"/>
    </subProcess>
  </subProcess>
  <sequenceFlow id="f5" sourceRef="Sub_Outer" targetRef="Task_After"/>""" + end_of("Task_After"))
LEAF_BRANCH = proc("""<startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="Sub"/>
  <subProcess id="Sub">
    <startEvent id="s1"/><sequenceFlow id="f1" sourceRef="s1" targetRef="choice"/>
    <exclusiveGateway id="choice" default="f3"/>
    <sequenceFlow id="f2" sourceRef="choice" targetRef="Task_Ended"><conditionExpression>${short}</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="f3" sourceRef="choice" targetRef="Task_Long"/>
    <userTask id="Task_Ended"/>
    <userTask id="Task_Long"/><sequenceFlow id="f4" sourceRef="Task_Long" targetRef="e1"/><endEvent id="e1"/>
  </subProcess>
  <sequenceFlow id="f5" sourceRef="Sub" targetRef="Task_After"/>""" + end_of("Task_After"))
UNDECLARED_ERROR = proc("""<startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="Sub"/>
  <subProcess id="Sub">
    <startEvent id="s1"/><sequenceFlow id="f1" sourceRef="s1" targetRef="Task_Check"/>
    <serviceTask id="Task_Check" camunda:type="external" camunda:topic="check"/>
    <sequenceFlow id="f2" sourceRef="Task_Check" targetRef="e1"/><endEvent id="e1"/>
    <boundaryEvent id="Caught_Inner" attachedToRef="Task_Check"><errorEventDefinition errorRef="otherError"/>
    </boundaryEvent>
    <sequenceFlow id="f3" sourceRef="Caught_Inner" targetRef="Fail"/>
    <endEvent id="Fail"><errorEventDefinition errorRef="myError"/></endEvent>
  </subProcess>
  <sequenceFlow id="f4" sourceRef="Sub" targetRef="e"/><endEvent id="e"/>
  <boundaryEvent id="Caught" attachedToRef="Sub"><errorEventDefinition errorRef="myError"/></boundaryEvent>
  <sequenceFlow id="f5" sourceRef="Caught" targetRef="Task_Escalated"/>""" + end_of("Task_Escalated"))


@pytest.fixture
def fixed() -> Iterator[clock.FixedClock]:
    at = clock.FixedClock(datetime(2026, 1, 5, 8, 0, tzinfo=UTC))
    token = clock.use(at)
    yield at
    clock.reset(token)


def runner_for(xml: str) -> Runner:
    definition = load_procedure(xml.encode())
    prepare_spec(definition.spec, definition.subprocess_specs)
    return Runner(RuntimeProcedure("id", definition.key, 1, "sha", definition, definition.spec,
                                   definition.subprocess_specs), SafeScriptEngine())


def names(outcome: Outcome) -> list[str]:
    return sorted(t.element_id for t in outcome.open_tasks)


def done(runner: Runner, outcome: Outcome, element_id: str, values: dict | None = None) -> Outcome:
    task = next(t.id for t in outcome.open_tasks if t.element_id == element_id)
    return runner.complete(outcome.state, task, values or {})


def shown(outcome: Outcome) -> list[str]:
    """The element ids the step's audit rows name: the drawn ones only."""
    ids = [t.element_id for t in outcome.transitions]
    assert all(GENERATED not in (i or "") for i in ids), ids
    return ids


def test_several_unconditioned_flows_out_of_a_task_all_run_in_parallel() -> None:
    runner = runner_for(SPLIT)
    outcome = done(runner, runner.start({}), "Task_Triage")
    assert names(outcome) == ["Task_Call", "Task_Mail"]
    assert None not in shown(outcome) and "Task_Triage" in shown(outcome)
    outcome = done(runner, outcome, "Task_Mail")
    assert names(outcome) == ["Task_Call"]
    outcome = done(runner, done(runner, outcome, "Task_Call"), "Task_Close")
    assert outcome.status == "completed"
    assert set(runner.procedure.definition.nodes) >= {"Task_Triage", "join"}
    assert not [n for n in runner.procedure.definition.nodes if GENERATED in n]


@pytest.mark.parametrize(("level", "expected"), [(1, ["Task_Low"]), (2, ["Task_High"]),
                                                  (3, ["Task_High", "Task_Major"])])
def test_conditioned_flows_out_of_a_task_take_each_true_one_else_the_default(level: int, expected: list[str]) -> None:
    runner = runner_for(CONDITIONED.replace("DEFAULT", 'default="f1"'))
    outcome = done(runner, runner.start({}), "Task_Triage", {"level": level})
    assert names(outcome) == expected
    assert "Task_Triage" in shown(outcome)


def test_an_unconditioned_flow_beside_conditioned_ones_is_always_taken() -> None:
    runner = runner_for(CONDITIONED.replace("DEFAULT", ""))
    started = runner.start({})
    assert names(done(runner, started, "Task_Triage", {"level": 1})) == ["Task_Low"]
    assert names(done(runner, started, "Task_Triage", {"level": 2})) == ["Task_High", "Task_Low"]


def test_no_true_condition_and_no_default_fails_naming_the_activity() -> None:
    runner = runner_for(CONDITIONED.replace("DEFAULT", "").replace('targetRef="Task_Low"/>', 'targetRef="Task_Low">'
                        '<conditionExpression>${level == 0}</conditionExpression></sequenceFlow>', 1))
    with pytest.raises(IncidentFailed, match="No conditions satisfied.*outgoing sequence flows of Task_Triage"):
        done(runner, runner.start({}), "Task_Triage", {"level": 1})


def test_a_single_conditioned_flow_out_of_an_activity_is_honoured() -> None:
    runner = runner_for(ONE_CONDITION)
    outcome = runner.start({})
    service = outcome.services[0].task_id
    assert names(runner.finish_service(outcome.state, service, {"go": True})) == ["Task_After"]
    with pytest.raises(IncidentFailed, match="outgoing sequence flows of Task_Triage"):
        runner.finish_service(outcome.state, service, {"go": False})


def test_a_boundary_timer_with_two_outgoing_flows_opens_both(fixed: clock.FixedClock) -> None:
    runner = runner_for(TIMER_SPLIT)
    outcome = runner.start({})
    assert names(outcome) == ["Task_Triage"] and outcome.next_timer_at is not None
    fixed.set(outcome.next_timer_at + timedelta(seconds=1))
    outcome = runner.fire_timers(outcome.state)
    assert names(outcome) == ["Task_Call", "Task_Mail"]  # interrupting: the triage task is gone
    assert "Timer_Late" in shown(outcome)


def test_subprocesses_without_end_events_complete_when_no_token_is_left() -> None:
    runner = runner_for(NO_END)
    outcome = runner.start({})
    assert names(outcome) == ["Task_A", "Task_B"]
    outcome = done(runner, outcome, "Task_A")
    assert names(outcome) == ["Task_B"]
    outcome = done(runner, outcome, "Task_B")
    assert names(outcome) == ["Task_After"]
    assert {"Sub_Inner", "Sub_Outer"} <= set(shown(outcome))
    assert done(runner, outcome, "Task_After").status == "completed"


@pytest.mark.parametrize(("short", "last"), [(True, "Task_Ended"), (False, "Task_Long")])
def test_a_subprocess_branch_that_ends_at_a_task_completes_the_subprocess(short: bool, last: str) -> None:
    runner = runner_for(LEAF_BRANCH)
    outcome = runner.start({"short": short})
    assert names(outcome) == [last]
    assert names(done(runner, outcome, last)) == ["Task_After"]


def test_an_error_ref_without_a_declared_error_is_its_code() -> None:
    runner = runner_for(UNDECLARED_ERROR)
    outcome = runner.start({})
    service = outcome.services[0].task_id
    with pytest.raises(LookupError):  # a different code: nothing catches it
        runner.throw_error(outcome.state, service, "thirdError", {})
    outcome = runner.throw_error(outcome.state, service, "otherError", {})
    assert names(outcome) == ["Task_Escalated"]  # the inner boundary caught it, the error end's myError the outer
    assert {"Caught_Inner", "Fail", "Caught"} <= set(shown(outcome))
