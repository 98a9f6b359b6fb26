"""Conditional events Camunda 7 evaluates where SpiffWorkflow 3.2 did not: an event subprocess's condition when
its embedded subprocess is entered, a conditional branch of an event-based gateway, a script task's assignments."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from engine import clock
from tests.unit.test_implicit_flows import done, names, proc, runner_for


def condition(expression: str, filters: str = "") -> str:
    return f'<conditionalEventDefinition {filters}><condition>{expression}</condition></conditionalEventDefinition>'


NESTED = proc("""<startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="Task_First"/>
  <userTask id="Task_First"/><sequenceFlow id="fa" sourceRef="Task_First" targetRef="Sub"/>
  <subProcess id="Sub">
    <startEvent id="s1"/><sequenceFlow id="f1" sourceRef="s1" targetRef="Task_In"/>
    <userTask id="Task_In"/><sequenceFlow id="f2" sourceRef="Task_In" targetRef="e1"/><endEvent id="e1"/>
    <subProcess id="Sub_Urgent" triggeredByEvent="true">
      <startEvent id="Start_Urgent" isInterrupting="INTERRUPTING">""" + condition("${urgent}") + """</startEvent>
      <sequenceFlow id="f3" sourceRef="Start_Urgent" targetRef="Task_Urgent"/>
      <userTask id="Task_Urgent"/><sequenceFlow id="f4" sourceRef="Task_Urgent" targetRef="e2"/><endEvent id="e2"/>
    </subProcess>
  </subProcess>
  <sequenceFlow id="f5" sourceRef="Sub" targetRef="Task_After"/>
  <userTask id="Task_After"/><sequenceFlow id="f6" sourceRef="Task_After" targetRef="e"/><endEvent id="e"/>""")
TOP_LEVEL = proc("""<startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="Task_First"/>
  <userTask id="Task_First"/><sequenceFlow id="fa" sourceRef="Task_First" targetRef="e"/><endEvent id="e"/>
  <subProcess id="Sub_Urgent" triggeredByEvent="true">
    <startEvent id="Start_Urgent" isInterrupting="false">""" + condition("${urgent}") + """</startEvent>
    <sequenceFlow id="f3" sourceRef="Start_Urgent" targetRef="Task_Urgent"/>
    <userTask id="Task_Urgent"/><sequenceFlow id="f4" sourceRef="Task_Urgent" targetRef="e2"/><endEvent id="e2"/>
  </subProcess>""")
GATEWAY = proc("""<startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="Gate"/>
  <eventBasedGateway id="Gate"/>
  <sequenceFlow id="f1" sourceRef="Gate" targetRef="When_Approved"/>
  <sequenceFlow id="f2" sourceRef="Gate" targetRef="When_Refused"/>
  <sequenceFlow id="f3" sourceRef="Gate" targetRef="Timeout"/>
  <intermediateCatchEvent id="When_Approved">""" + condition("${decision == 'yes'}", "FILTER") + """
  </intermediateCatchEvent>
  <intermediateCatchEvent id="When_Refused">""" + condition("${decision == 'no'}") + """</intermediateCatchEvent>
  <intermediateCatchEvent id="Timeout"><timerEventDefinition><timeDuration>PT1H</timeDuration>
  </timerEventDefinition></intermediateCatchEvent>
  <sequenceFlow id="f4" sourceRef="When_Approved" targetRef="Task_Approved"/>
  <sequenceFlow id="f5" sourceRef="When_Refused" targetRef="Task_Refused"/>
  <sequenceFlow id="f6" sourceRef="Timeout" targetRef="Task_Late"/>""" + "".join(
    f'<userTask id="{t}"/><sequenceFlow id="x{t}" sourceRef="{t}" targetRef="e{t}"/><endEvent id="e{t}"/>'
    for t in ("Task_Approved", "Task_Refused", "Task_Late")))
SCRIPTED = proc("""<startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="fork"/>
  <parallelGateway id="fork"/>
  <sequenceFlow id="f1" sourceRef="fork" targetRef="Task_Work"/>
  <sequenceFlow id="f2" sourceRef="fork" targetRef="Task_Assess"/>
  <userTask id="Task_Work"/><sequenceFlow id="f3" sourceRef="Task_Work" targetRef="e1"/><endEvent id="e1"/>
  <boundaryEvent id="When_Major" attachedToRef="Task_Work">""" + condition("${level &gt; 2}") + """</boundaryEvent>
  <sequenceFlow id="f4" sourceRef="When_Major" targetRef="Task_Major"/>
  <userTask id="Task_Major"/><sequenceFlow id="f5" sourceRef="Task_Major" targetRef="e2"/><endEvent id="e2"/>
  <userTask id="Task_Assess"/><sequenceFlow id="f6" sourceRef="Task_Assess" targetRef="Score"/>
  <scriptTask id="Score" scriptFormat="python"><script>level = impact + 1</script></scriptTask>
  <sequenceFlow id="f7" sourceRef="Score" targetRef="Wait_Calm"/>
  <intermediateCatchEvent id="Wait_Calm">""" + condition("${calm}") + """</intermediateCatchEvent>
  <sequenceFlow id="f8" sourceRef="Wait_Calm" targetRef="e3"/><endEvent id="e3"/>""")


@pytest.fixture
def fixed() -> Iterator[clock.FixedClock]:
    at = clock.FixedClock(datetime(2026, 1, 5, 8, 0, tzinfo=UTC))
    token = clock.use(at)
    yield at
    clock.reset(token)


def test_an_event_subprocess_condition_is_evaluated_when_its_subprocess_is_entered() -> None:
    runner = runner_for(NESTED.replace("INTERRUPTING", "false"))
    outcome = runner.start({"urgent": True})
    assert names(outcome) == ["Task_First"]  # its scope is not entered yet
    outcome = done(runner, outcome, "Task_First")  # nothing written now: entering the subprocess is the event
    assert names(outcome) == ["Task_In", "Task_Urgent"]
    outcome = done(runner, done(runner, outcome, "Task_Urgent"), "Task_In")
    assert names(outcome) == ["Task_After"]


def test_an_interrupting_one_replaces_the_subprocess_flow_at_entry() -> None:
    runner = runner_for(NESTED.replace("INTERRUPTING", "true").replace('targetRef="Task_First"/>', 'targetRef="Sub"/>', 1))
    outcome = runner.start({"urgent": True})
    assert names(outcome) == ["Task_Urgent"] and outcome.conditions == []
    assert names(done(runner, outcome, "Task_Urgent")) == ["Task_After"]


def test_a_false_condition_at_entry_still_listens_for_changes() -> None:
    runner = runner_for(NESTED.replace("INTERRUPTING", "false"))
    outcome = done(runner, runner.start({"urgent": False}), "Task_First")
    assert names(outcome) == ["Task_In"] and outcome.conditions == ["Start_Urgent"]
    outcome = runner.set_variables(outcome.state, {"urgent": True})
    assert names(outcome) == ["Task_In", "Task_Urgent"]


def test_a_non_interrupting_condition_true_at_the_start_starts_once() -> None:
    runner = runner_for(TOP_LEVEL)
    outcome = runner.start({"urgent": True})
    assert names(outcome) == ["Task_First", "Task_Urgent"]


def gateway(filters: str = "") -> str:
    return GATEWAY.replace("FILTER", filters)


def test_a_conditional_branch_of_an_event_based_gateway_waits_and_is_taken_when_true(fixed: clock.FixedClock) -> None:
    runner = runner_for(gateway())
    outcome = runner.start({})
    assert outcome.status == "running" and names(outcome) == []
    assert outcome.conditions == ["When_Approved", "When_Refused"] and outcome.next_timer_at is not None
    outcome = runner.set_variables(outcome.state, {"decision": "maybe"})
    assert outcome.conditions == ["When_Approved", "When_Refused"]
    outcome = runner.set_variables(outcome.state, {"decision": "no"})
    assert names(outcome) == ["Task_Refused"] and outcome.conditions == [] and outcome.next_timer_at is None
    assert ("When_Refused", "completed") in [(t.element_id, t.to_state) for t in outcome.transitions]
    assert outcome.open_tasks[0].data["decision"] == "no"


def test_a_condition_already_true_when_the_gateway_is_reached_takes_its_branch() -> None:
    runner = runner_for(gateway())
    assert names(runner.start({"decision": "yes"})) == ["Task_Approved"]


def test_the_gateways_other_events_still_race_the_conditions(fixed: clock.FixedClock) -> None:
    runner = runner_for(gateway())
    outcome = runner.start({})
    fixed.set(outcome.next_timer_at + timedelta(seconds=1))  # type: ignore[operator]
    outcome = runner.fire_timers(outcome.state)
    assert names(outcome) == ["Task_Late"] and outcome.conditions == []


def test_a_gateway_condition_honours_camunda_variable_name() -> None:
    runner = runner_for(gateway('camunda:variableName="approval"'))
    outcome = runner.set_variables(runner.start({}).state, {"decision": "yes"})
    assert names(outcome) == []  # a change of another variable: not evaluated
    outcome = runner.set_variables(outcome.state, {"approval": "given"})
    assert names(outcome) == ["Task_Approved"]


def test_what_a_script_task_assigns_re_evaluates_waiting_conditions() -> None:
    runner = runner_for(SCRIPTED)
    outcome = runner.start({"level": 0})
    assert names(outcome) == ["Task_Assess", "Task_Work"]
    outcome = done(runner, outcome, "Task_Assess", {"impact": 2})  # the script sets level = 3
    assert names(outcome) == ["Task_Major"]  # the interrupting boundary of the other branch fired
    assert outcome.conditions == ["Wait_Calm"]


def test_a_script_that_assigns_nothing_new_fires_nothing() -> None:
    runner = runner_for(SCRIPTED)
    outcome = done(runner, runner.start({"level": 0}), "Task_Assess", {"impact": 1})  # level = 2: the boundary stays
    assert names(outcome) == ["Task_Work"] and outcome.conditions == ["Wait_Calm", "When_Major"]


def test_an_interrupting_message_event_subprocess_ends_its_embedded_subprocess_too() -> None:
    xml = NESTED.replace("INTERRUPTING", "true").replace(condition("${urgent}"), '<messageEventDefinition messageRef="m"/>')
    runner = runner_for(xml.replace('<process id="p"', '<message id="m" name="Escalate"/><process id="p"'))
    outcome = done(runner, runner.start({}), "Task_First")
    assert names(outcome) == ["Task_In"] and [w.name for w in outcome.waits] == ["Escalate"]
    outcome = runner.deliver(outcome.state, outcome.waits[0], {})
    assert names(outcome) == ["Task_Urgent"]
    outcome = done(runner, outcome, "Task_Urgent")
    assert outcome.status == "running" and names(outcome) == ["Task_After"]
    assert done(runner, outcome, "Task_After").status == "completed"
