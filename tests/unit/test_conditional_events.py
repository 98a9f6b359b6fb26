"""Conditional events as Camunda runs them: evaluated when reached and again whenever variables are set."""
from __future__ import annotations

import pytest

from engine.bpmn.parser import load_procedure
from engine.errors import ProcedureInvalid
from engine.runtime.procedure import RuntimeProcedure, prepare_spec
from engine.runtime.runner import IncidentFailed, Outcome, Runner
from engine.runtime.script_engine import SafeScriptEngine
from engine.runtime.stall import stall_reason

HEAD = ('<?xml version="1.0" encoding="UTF-8"?><definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" targetNamespace="x"><process id="p" isExecutable="true">')
CATCH = HEAD + """
  <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="Wait_Approved"/>
  <intermediateCatchEvent id="Wait_Approved">
    <conditionalEventDefinition><condition>${approved == 1}</condition></conditionalEventDefinition>
  </intermediateCatchEvent>
  <sequenceFlow id="f2" sourceRef="Wait_Approved" targetRef="Task_After"/>
  <userTask id="Task_After"/><sequenceFlow id="f3" sourceRef="Task_After" targetRef="e"/><endEvent id="e"/>
</process></definitions>"""
BOUNDARY = HEAD + """
  <startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="fork"/>
  <parallelGateway id="fork"/>
  <sequenceFlow id="f1" sourceRef="fork" targetRef="Task_Work"/>
  <sequenceFlow id="f1b" sourceRef="fork" targetRef="Task_Other"/>
  <userTask id="Task_Other"/><sequenceFlow id="f1c" sourceRef="Task_Other" targetRef="e0"/><endEvent id="e0"/>
  <userTask id="Task_Work"/><sequenceFlow id="f2" sourceRef="Task_Work" targetRef="e"/><endEvent id="e"/>
  <boundaryEvent id="When_Escalated" cancelActivity="CANCEL" attachedToRef="Task_Work">
    <conditionalEventDefinition FILTER><condition>${level &gt; 2}</condition></conditionalEventDefinition>
  </boundaryEvent>
  <sequenceFlow id="f3" sourceRef="When_Escalated" targetRef="Task_Escalated"/>
  <userTask id="Task_Escalated"/><sequenceFlow id="f4" sourceRef="Task_Escalated" targetRef="e2"/><endEvent id="e2"/>
</process></definitions>"""
EVENT_SUBPROCESS = HEAD + """
  <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="Task_Work"/>
  <userTask id="Task_Work"/><sequenceFlow id="f2" sourceRef="Task_Work" targetRef="e"/><endEvent id="e"/>
  <subProcess id="Sub_Breach" triggeredByEvent="true">
    <startEvent id="Start_Breach" isInterrupting="INTERRUPTING">
      <conditionalEventDefinition><condition>${breached}</condition></conditionalEventDefinition>
    </startEvent>
    <sequenceFlow id="f5" sourceRef="Start_Breach" targetRef="Task_Breach"/>
    <userTask id="Task_Breach"/><sequenceFlow id="f6" sourceRef="Task_Breach" targetRef="e3"/><endEvent id="e3"/>
  </subProcess>
</process></definitions>"""
START = HEAD + """
  <startEvent id="Start_Big"><conditionalEventDefinition><condition>${amount &gt; 1000}</condition>
  </conditionalEventDefinition></startEvent>
  <sequenceFlow id="f1" sourceRef="Start_Big" targetRef="Task_Review"/>
  <userTask id="Task_Review"/><sequenceFlow id="f2" sourceRef="Task_Review" targetRef="e"/><endEvent id="e"/>
</process></definitions>"""


def runner_for(xml: str) -> Runner:
    definition = load_procedure(xml.encode())
    prepare_spec(definition.spec, definition.subprocess_specs)
    return Runner(RuntimeProcedure("id", definition.key, 1, "sha", definition, definition.spec,
                                   definition.subprocess_specs), SafeScriptEngine())


def names(outcome: Outcome) -> list[str]:
    return sorted(t.element_id for t in outcome.open_tasks)


def task(outcome: Outcome, element_id: str) -> str:
    return next(t.id for t in outcome.open_tasks if t.element_id == element_id)


def test_an_intermediate_condition_waits_until_variables_make_it_true() -> None:
    runner = runner_for(CATCH)
    outcome = runner.start({})
    assert outcome.status == "running" and outcome.open_tasks == [] and outcome.conditions == ["Wait_Approved"]
    assert stall_reason(outcome) is None  # a condition can still move it on: not stalled
    outcome = runner.set_variables(outcome.state, {"approved": 2})
    assert outcome.conditions == ["Wait_Approved"] and outcome.open_tasks == []
    outcome = runner.set_variables(outcome.state, {"approved": 1})
    assert names(outcome) == ["Task_After"] and outcome.conditions == []
    assert outcome.open_tasks[0].data["approved"] == 1
    assert ("Wait_Approved", "completed") in [(t.element_id, t.to_state) for t in outcome.transitions]


def test_a_condition_already_true_when_reached_passes_at_once() -> None:
    outcome = runner_for(CATCH).start({"approved": 1})
    assert names(outcome) == ["Task_After"]


def test_an_interrupting_boundary_condition_fires_when_another_task_sets_its_variable() -> None:
    runner = runner_for(BOUNDARY.replace("CANCEL", "true").replace("FILTER", ""))
    outcome = runner.start({"level": 1})
    assert names(outcome) == ["Task_Other", "Task_Work"] and outcome.conditions == ["When_Escalated"]
    outcome = runner.complete(outcome.state, task(outcome, "Task_Other"), {"level": 3})  # a task completion
    assert names(outcome) == ["Task_Escalated"]
    assert ("Task_Work", "cancelled") in [(t.element_id, t.to_state) for t in outcome.transitions]


def test_a_non_interrupting_boundary_condition_fires_on_each_change_that_makes_it_true() -> None:
    runner = runner_for(BOUNDARY.replace("CANCEL", "false").replace("FILTER", ""))
    outcome = runner.start({"level": 1})
    outcome = runner.set_variables(outcome.state, {"level": 3})
    assert names(outcome) == ["Task_Escalated", "Task_Other", "Task_Work"]
    assert outcome.conditions == ["When_Escalated"]  # it listens again
    outcome = runner.set_variables(outcome.state, {"level": 4})
    assert names(outcome) == ["Task_Escalated", "Task_Escalated", "Task_Other", "Task_Work"]
    outcome = runner.complete(outcome.state, task(outcome, "Task_Work"), {})
    assert outcome.conditions == []  # the activity ended: its boundary stops listening
    outcome = runner.set_variables(outcome.state, {"level": 5})
    assert names(outcome) == ["Task_Escalated", "Task_Escalated", "Task_Other"]


@pytest.mark.parametrize(("filter_", "variables", "fires"), [
    ('camunda:variableName="other"', {"level": 3}, False),
    ('camunda:variableName="level"', {"level": 3}, True),
    ('camunda:variableEvents="create"', {"level": 3}, False),  # level exists: an update
    ('camunda:variableEvents="create"', {"level": 3, "new": 1}, True),  # a variable created in the same change
    ('camunda:variableEvents="update"', {"level": 3}, True),
    ('camunda:variableName="level" camunda:variableEvents="create, update"', {"level": 3}, True),
])
def test_variable_name_and_events_narrow_what_a_condition_listens_to(filter_: str, variables: dict[str, int],
                                                                     fires: bool) -> None:
    runner = runner_for(BOUNDARY.replace("CANCEL", "true").replace("FILTER", filter_))
    outcome = runner.start({"level": 1})
    outcome = runner.set_variables(outcome.state, variables)
    assert ("Task_Escalated" in names(outcome)) is fires


def test_a_message_or_service_result_is_a_variable_change_too() -> None:
    runner = runner_for(BOUNDARY.replace("CANCEL", "true").replace("FILTER", ""))
    outcome = runner.start({"level": 1})
    outcome = runner.complete(outcome.state, task(outcome, "Task_Other"), {"level": 2})
    assert names(outcome) == ["Task_Work"]  # 2 > 2 is false


@pytest.mark.parametrize(("interrupting", "open_after"), [("true", ["Task_Breach"]),
                                                         ("false", ["Task_Breach", "Task_Work"])])
def test_an_event_subprocess_starts_when_its_condition_becomes_true(interrupting: str, open_after: list[str]) -> None:
    runner = runner_for(EVENT_SUBPROCESS.replace("INTERRUPTING", interrupting))
    outcome = runner.start({"breached": False})
    assert names(outcome) == ["Task_Work"] and outcome.conditions == ["Start_Breach"]
    outcome = runner.set_variables(outcome.state, {"breached": True})
    assert names(outcome) == open_after


def test_an_event_subprocess_whose_condition_is_true_at_the_start_starts_with_the_incident() -> None:
    runner = runner_for(EVENT_SUBPROCESS.replace("INTERRUPTING", "false").replace("${breached}", "${true}"))
    assert names(runner.start({})) == ["Task_Breach", "Task_Work"]


def test_a_process_condition_start_runs_from_its_start_event_without_evaluating_it_again() -> None:
    runner = runner_for(START)
    outcome = runner.start({"amount": 5}, start_event="Start_Big", start_kind="conditional")
    assert names(outcome) == ["Task_Review"]  # the service decided; the runner starts where it is told


@pytest.mark.parametrize(("xml", "message"), [
    (CATCH.replace("${approved == 1}", ""), "has no condition"),
    (BOUNDARY.replace("CANCEL", "true").replace("FILTER", 'camunda:variableEvents="change"'),
     "camunda:variableEvents change is not create, update or delete"),
    (START.replace("<conditionalEventDefinition>", '<conditionalEventDefinition camunda:variableName="amount">'),
     "apply to a running incident"),
])
def test_a_conditional_event_it_cannot_honour_is_refused(xml: str, message: str) -> None:
    with pytest.raises(ProcedureInvalid) as caught:
        load_procedure(xml.encode())
    assert any(p.rule == "unsupported.conditional" and message in p.message for p in caught.value.problems)


@pytest.mark.parametrize("where", ["process", "event subprocess"])
def test_a_multiple_start_event_is_refused_saying_why(where: str) -> None:
    both = ('<startEvent id="Start_Both"><conditionalEventDefinition><condition>${a}</condition>'
            '</conditionalEventDefinition><signalEventDefinition signalRef="go"/></startEvent>')
    if where == "process":
        xml = HEAD.replace("<process", '<signal id="go" name="go"/><process') + both + """
          <sequenceFlow id="f1" sourceRef="Start_Both" targetRef="e"/><endEvent id="e"/></process></definitions>"""
    else:
        xml = EVENT_SUBPROCESS.replace("INTERRUPTING", "true").replace("<process", '<signal id="go" name="go"/><process')
        xml = xml.replace('<startEvent id="Start_Breach" isInterrupting="true">',
                          '<startEvent id="Start_Breach"><signalEventDefinition signalRef="go"/>')
    with pytest.raises(ProcedureInvalid) as caught:
        load_procedure(xml.encode())
    assert any(p.rule == "unsupported.start" and "'multiple' start" in p.message and "Camunda 7 does not run it"
               in p.message for p in caught.value.problems)


@pytest.mark.parametrize("where", ["boundary", "event subprocess"])
def test_a_condition_that_cannot_be_evaluated_fails_the_incident_by_name(where: str) -> None:
    if where == "boundary":
        runner = runner_for(BOUNDARY.replace("CANCEL", "true").replace("FILTER", ""))
        outcome = runner.start({"level": 1})
        values = {"level": "high"}
    else:
        runner = runner_for(EVENT_SUBPROCESS.replace("INTERRUPTING", "true").replace("${breached}", "${breached > 1}"))
        outcome = runner.start({"breached": 0})
        values = {"breached": "yes"}
    with pytest.raises(IncidentFailed, match="When_Escalated|Start_Breach"):
        runner.set_variables(outcome.state, values)
