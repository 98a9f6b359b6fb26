"""Pruning finished history keeps the saved state flat and changes nothing the workflow does: every shape
inside a loop (plain rework, a parallel join in progress, a boundary event on an ancestor, an event
subprocess, multi-instance, a call activity, a check gateway and its override), and the loop cap still
counts the passes that were dropped."""
from __future__ import annotations

from typing import Any

import pytest

from engine.bpmn.parser import load_procedure
from engine.runtime import prune
from engine.runtime.check_gateway import prepare_checks
from engine.runtime.procedure import RuntimeProcedure, prepare_spec
from engine.runtime.runner import IncidentFailed, Outcome, Runner
from engine.runtime.script_engine import SafeScriptEngine

_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                  id="Defs" targetNamespace="http://incident-engine/tests">
  <bpmn:message id="Message_Esc" name="escalate"/>
"""
_LOOP = """
  <bpmn:process id="looping" name="Looping" isExecutable="true">
    <bpmn:startEvent id="StartEvent"/>
    <bpmn:sequenceFlow id="F_start" sourceRef="StartEvent" targetRef="Merge"/>
    <bpmn:exclusiveGateway id="Merge"/>
    <bpmn:sequenceFlow id="F_body" sourceRef="Merge" targetRef="{first}"/>
    {body}
    <bpmn:sequenceFlow id="F_last" sourceRef="{last}" targetRef="Task_Again"/>
    <bpmn:userTask id="Task_Again" name="Again?"/>
    <bpmn:sequenceFlow id="F_ask" sourceRef="Task_Again" targetRef="Gateway_Again"/>
    <bpmn:exclusiveGateway id="Gateway_Again" default="F_end"/>
    <bpmn:sequenceFlow id="F_back" sourceRef="Gateway_Again" targetRef="Merge">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${{again == true}}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="F_end" sourceRef="Gateway_Again" targetRef="End"/>
    <bpmn:endEvent id="End"/>
    {extra}
  </bpmn:process>
"""


def _xml(body: str, first: str, last: str, extra: str = "", tail: str = "") -> bytes:
    return (_HEAD + _LOOP.format(body=body, first=first, last=last, extra=extra) + tail
            + "</bpmn:definitions>").encode()


def _runner(xml: bytes, cap: int = 5000) -> Runner:
    definition = load_procedure(xml, process="looping")
    prepare_spec(definition.spec, definition.subprocess_specs)
    prepare_checks(definition)
    runtime = RuntimeProcedure("id", definition.key, 1, "sha", definition, definition.spec,
                               definition.subprocess_specs)
    return Runner(runtime, SafeScriptEngine(), loop_cap=cap)


def _open(outcome: Outcome, element: str) -> list[Any]:
    return [t for t in outcome.open_tasks if t.element_id == element]


def _again(runner: Runner, outcome: Outcome, again: bool = True) -> Outcome:
    [task] = _open(outcome, "Task_Again")
    return runner.complete(outcome.state, task.id, {"again": again})


def _nodes(runner: Runner, outcome: Outcome) -> int:
    workflow = runner.load(outcome.state)
    return len(workflow.tasks) + sum(len(s.tasks) for s in workflow.subprocesses.values())


PLAIN = _xml("", "Task_Again", "Merge").replace(
    b'<bpmn:sequenceFlow id="F_body" sourceRef="Merge" targetRef="Task_Again"/>', b"")


def test_a_thousand_passes_keep_the_state_flat_and_the_loop_cap_counts_dropped_passes() -> None:
    runner = _runner(PLAIN, cap=2000)
    outcome = runner.start({})
    sizes = {}
    for n in range(1, 1001):
        outcome = _again(runner, outcome)
        if n in (5, 1000):
            sizes[n] = (len(outcome.state), _nodes(runner, outcome))
    assert sizes[1000][1] == sizes[5][1] and sizes[1000][0] <= sizes[5][0] * 1.05, sizes
    # SpiffWorkflow alone stops near pass 334 of this shape (its tree iterator gives up at depth 1,000)
    assert [t.element_id for t in outcome.open_tasks] == ["Task_Again"]
    counted = prune.pruned_passes(runner.load(outcome.state))
    assert counted["Task_Again"] >= 995
    assert _again(runner, outcome, again=False).status == "completed"

    capped = _runner(PLAIN, cap=30)
    outcome = capped.start({})
    with pytest.raises(IncidentFailed, match="loop cap reached: element .* 31 times"):
        for _ in range(40):
            outcome = _again(capped, outcome)


PARALLEL = _xml("""
    <bpmn:parallelGateway id="Split"/>
    <bpmn:sequenceFlow id="F_a" sourceRef="Split" targetRef="Task_A"/>
    <bpmn:sequenceFlow id="F_b" sourceRef="Split" targetRef="Task_B"/>
    <bpmn:userTask id="Task_A"/>
    <bpmn:userTask id="Task_B"/>
    <bpmn:sequenceFlow id="F_a2" sourceRef="Task_A" targetRef="Join"/>
    <bpmn:sequenceFlow id="F_b2" sourceRef="Task_B" targetRef="Join"/>
    <bpmn:parallelGateway id="Join"/>""", "Split", "Join")


def test_a_parallel_join_in_progress_is_kept_whole_and_merges_both_branches() -> None:
    runner = _runner(PARALLEL)
    outcome = runner.start({})
    for n in range(60):
        [a] = _open(outcome, "Task_A")
        outcome = runner.complete(outcome.state, a.id, {"a": n})  # saved with the join half done
        assert not _open(outcome, "Task_Again") and _open(outcome, "Task_B")
        [b] = _open(outcome, "Task_B")
        outcome = runner.complete(outcome.state, b.id, {"b": n})
        [again] = _open(outcome, "Task_Again")
        assert (again.data["a"], again.data["b"]) == (n, n)
        outcome = _again(runner, outcome)
        if n == 5:
            early = _nodes(runner, outcome)
    assert _nodes(runner, outcome) <= early


BOUNDARY = _xml("""
    <bpmn:subProcess id="Sub_Work">
      <bpmn:startEvent id="Sub_Start"/>
      <bpmn:sequenceFlow id="S_1" sourceRef="Sub_Start" targetRef="Task_Inner"/>
      <bpmn:userTask id="Task_Inner"/>
      <bpmn:sequenceFlow id="S_2" sourceRef="Task_Inner" targetRef="Sub_End"/>
      <bpmn:endEvent id="Sub_End"/>
    </bpmn:subProcess>
    <bpmn:boundaryEvent id="Boundary_Esc" attachedToRef="Sub_Work">
      <bpmn:messageEventDefinition messageRef="Message_Esc"/>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="F_esc" sourceRef="Boundary_Esc" targetRef="Task_Escalated"/>
    <bpmn:userTask id="Task_Escalated"/>
    <bpmn:sequenceFlow id="F_esc2" sourceRef="Task_Escalated" targetRef="End_Esc"/>
    <bpmn:endEvent id="End_Esc"/>""", "Sub_Work", "Sub_Work")


def test_a_boundary_event_on_an_ancestor_of_the_open_task_still_catches_after_many_passes() -> None:
    runner = _runner(BOUNDARY)
    outcome = runner.start({})
    for _ in range(120):
        [inner] = _open(outcome, "Task_Inner")
        outcome = _again(runner, runner.complete(outcome.state, inner.id, {}))
    assert _nodes(runner, outcome) < 40
    [wait] = [w for w in outcome.waits if w.element_id == "Boundary_Esc"]
    caught = runner.deliver(outcome.state, wait, {"why": "late"})
    assert caught.caught_by == "Boundary_Esc"
    assert [t.element_id for t in caught.open_tasks] == ["Task_Escalated"]  # the subprocess was interrupted


EVENT_SUB = _xml("""
    <bpmn:userTask id="Task_Work"/>""", "Task_Work", "Task_Work", extra="""
    <bpmn:subProcess id="Event_Sub" triggeredByEvent="true">
      <bpmn:startEvent id="Event_Start" isInterrupting="false">
        <bpmn:messageEventDefinition messageRef="Message_Esc"/>
      </bpmn:startEvent>
      <bpmn:sequenceFlow id="E_1" sourceRef="Event_Start" targetRef="Task_Event"/>
      <bpmn:userTask id="Task_Event"/>
      <bpmn:sequenceFlow id="E_2" sourceRef="Task_Event" targetRef="Event_End"/>
      <bpmn:endEvent id="Event_End"/>
    </bpmn:subProcess>""")


def test_an_event_subprocess_starts_with_the_latest_data_after_many_passes() -> None:
    runner = _runner(EVENT_SUB)
    outcome = runner.start({})
    for n in range(120):
        [work] = _open(outcome, "Task_Work")
        outcome = _again(runner, runner.complete(outcome.state, work.id, {"pass_no": n}))
    assert _nodes(runner, outcome) < 40
    [wait] = [w for w in outcome.waits if w.element_id == "Event_Start"]
    assert wait.data["pass_no"] == 119
    caught = runner.deliver(outcome.state, wait, {})
    assert sorted(t.element_id for t in caught.open_tasks) == ["Task_Event", "Task_Work"]


MULTI = _xml("""
    <bpmn:userTask id="Task_Multi">
      <bpmn:multiInstanceLoopCharacteristics>
        <bpmn:loopCardinality>2</bpmn:loopCardinality>
      </bpmn:multiInstanceLoopCharacteristics>
    </bpmn:userTask>""", "Task_Multi", "Task_Multi")


def test_multi_instance_inside_a_loop_runs_every_instance_each_pass() -> None:
    runner = _runner(MULTI)
    outcome = runner.start({})
    for n in range(80):
        instances = _open(outcome, "Task_Multi")
        assert len(instances) == 2, n
        outcome = runner.complete(outcome.state, instances[0].id, {})
        [second] = _open(outcome, "Task_Multi")
        outcome = _again(runner, runner.complete(outcome.state, second.id, {}))
        if n == 5:
            early = _nodes(runner, outcome)
    assert _nodes(runner, outcome) <= early


CALL = _xml("""
    <bpmn:callActivity id="Call_Child" calledElement="child"/>""", "Call_Child", "Call_Child", tail="""
  <bpmn:process id="child" isExecutable="true">
    <bpmn:startEvent id="Child_Start"/>
    <bpmn:sequenceFlow id="C_1" sourceRef="Child_Start" targetRef="Task_Child"/>
    <bpmn:userTask id="Task_Child"/>
    <bpmn:sequenceFlow id="C_2" sourceRef="Task_Child" targetRef="Child_End"/>
    <bpmn:endEvent id="Child_End"/>
  </bpmn:process>
""")


def test_a_call_activity_inside_a_loop_leaves_no_finished_subprocess_behind() -> None:
    runner = _runner(CALL)
    outcome = runner.start({})
    for n in range(80):
        [child] = _open(outcome, "Task_Child")
        outcome = runner.complete(outcome.state, child.id, {"child_pass": n})
        [again] = _open(outcome, "Task_Again")
        assert again.data["child_pass"] == n  # the called process's data came back
        outcome = _again(runner, outcome)
    workflow = runner.load(outcome.state)
    assert len(workflow.subprocesses) == 1 and _nodes(runner, outcome) < 40


CHECKED = _xml("""
    <bpmn:userTask id="Task_Work"/>
    <bpmn:sequenceFlow id="F_w" sourceRef="Task_Work" targetRef="Gateway_Check"/>
    <bpmn:exclusiveGateway id="Gateway_Check" default="F_fail">
      <bpmn:extensionElements>
        <camunda:properties><camunda:property name="check" value="checked"/></camunda:properties>
      </bpmn:extensionElements>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="F_fail" sourceRef="Gateway_Check" targetRef="Task_Rework"/>
    <bpmn:userTask id="Task_Rework"/>
    <bpmn:sequenceFlow id="F_rw" sourceRef="Task_Rework" targetRef="Merge"/>
    <bpmn:sequenceFlow id="F_pass" sourceRef="Gateway_Check" targetRef="Task_Done">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${ok == true}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:userTask id="Task_Done"/>""", "Task_Work", "Task_Done").replace(
    b'<bpmn:process id="looping" name="Looping" isExecutable="true">',
    b'<bpmn:process id="looping" name="Looping" isExecutable="true"><bpmn:extensionElements><camunda:properties>'
    b'<camunda:property name="required_checks" value="checked"/></camunda:properties></bpmn:extensionElements>')


def test_a_supervisor_override_after_a_hundred_failed_checks_takes_the_pass_flow() -> None:
    runner = _runner(CHECKED)
    outcome = runner.start({})
    for _ in range(100):
        [work] = _open(outcome, "Task_Work")
        outcome = runner.complete(outcome.state, work.id, {"ok": False})
        [rework] = _open(outcome, "Task_Rework")  # the check failed
        outcome = runner.complete(outcome.state, rework.id, {})
    [work] = _open(outcome, "Task_Work")
    outcome = runner.complete(outcome.state, work.id, {"ok": False})
    assert _nodes(runner, outcome) < 40 and _open(outcome, "Task_Rework")
    overridden = runner.override_check(outcome.state, "Gateway_Check")
    assert [t.element_id for t in overridden.open_tasks] == ["Task_Done"]
    assert [(t.element_id, t.to_state) for t in overridden.transitions if t.to_state == "cancelled"] == \
        [("Task_Rework", "cancelled")]
    assert any(t.kind == "check_overridden" for t in overridden.transitions)


SUB_LOOP = _xml("""
    <bpmn:subProcess id="Sub_Loop">
      <bpmn:startEvent id="In_Start"/>
      <bpmn:sequenceFlow id="I_1" sourceRef="In_Start" targetRef="In_Merge"/>
      <bpmn:exclusiveGateway id="In_Merge"/>
      <bpmn:sequenceFlow id="I_2" sourceRef="In_Merge" targetRef="Task_Inner"/>
      <bpmn:userTask id="Task_Inner"/>
      <bpmn:sequenceFlow id="I_3" sourceRef="Task_Inner" targetRef="In_Again"/>
      <bpmn:exclusiveGateway id="In_Again" default="I_out"/>
      <bpmn:sequenceFlow id="I_back" sourceRef="In_Again" targetRef="In_Merge">
        <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${more == true}</bpmn:conditionExpression>
      </bpmn:sequenceFlow>
      <bpmn:sequenceFlow id="I_out" sourceRef="In_Again" targetRef="In_End"/>
      <bpmn:endEvent id="In_End"/>
    </bpmn:subProcess>""", "Sub_Loop", "Sub_Loop")


def test_a_loop_inside_a_subprocess_that_grows_too_deep_fails_the_incident(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.runtime import runner as runner_module

    monkeypatch.setattr(runner_module, "MAX_DEPTH", 40)  # SpiffWorkflow's own limit is about 1,000 levels
    runner = _runner(SUB_LOOP)
    outcome = runner.start({})
    with pytest.raises(IncidentFailed, match="too deep"):
        for _ in range(40):
            [inner] = _open(outcome, "Task_Inner")
            outcome = runner.complete(outcome.state, inner.id, {"more": True})
    assert prune.deeper_than(runner.load(outcome.state), 30)  # the subprocess tree is not pruned
