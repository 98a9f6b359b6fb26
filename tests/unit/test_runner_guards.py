"""Models SpiffWorkflow mishandles end the incident with a named reason, never a crash or a silent stall."""
from __future__ import annotations

import pytest

from engine.bpmn.parser import load_procedure
from engine.runtime.procedure import RuntimeProcedure, prepare_spec
from engine.runtime.runner import IncidentFailed, Runner
from engine.runtime.script_engine import SafeScriptEngine

HEAD = ('<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">'
        '<escalation id="esc" escalationCode="late"/><process id="p" isExecutable="true">')


def _runner(body: str) -> Runner:
    definition = load_procedure((HEAD + body + "</process></definitions>").encode())
    prepare_spec(definition.spec, definition.subprocess_specs)
    return Runner(RuntimeProcedure("id", definition.key, 1, "sha", definition, definition.spec,
                                   definition.subprocess_specs), SafeScriptEngine())


def test_a_timer_cycle_whose_expression_gives_nothing_fails_the_incident() -> None:
    runner = _runner('<startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="r"/>'
                     '<receiveTask id="r"/><sequenceFlow id="f2" sourceRef="r" targetRef="e"/><endEvent id="e"/>'
                     '<boundaryEvent id="t" attachedToRef="r" cancelActivity="false"><timerEventDefinition>'
                     '<timeCycle>${cycle}</timeCycle></timerEventDefinition></boundaryEvent>'
                     '<sequenceFlow id="f3" sourceRef="t" targetRef="u"/><userTask id="u"/>')
    # SpiffWorkflow's cycle timer crashed on the null (AttributeError: 'NoneType' object has no attribute
    # 'upper'); the timer is checked first now and named
    with pytest.raises(IncidentFailed, match=r"timer t: the timeCycle '\$\{cycle\}' gave None, not an ISO 8601"):
        runner.start({})


def test_a_fault_inside_spiffworkflow_fails_the_incident_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = _runner('<startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="w"/>'
                     '<intermediateCatchEvent id="w"><timerEventDefinition><timeDuration>PT1H</timeDuration>'
                     '</timerEventDefinition></intermediateCatchEvent>'
                     '<sequenceFlow id="f2" sourceRef="w" targetRef="e"/><endEvent id="e"/>')

    def broken(*args: object, **kwargs: object) -> None:
        raise AttributeError("'NoneType' object has no attribute 'upper'")

    monkeypatch.setattr(runner.script_engine, "evaluate", broken)
    with pytest.raises(IncidentFailed, match="the engine could not run this step: AttributeError"):
        runner.start({})


def test_a_workflow_with_nothing_left_to_wait_for_is_stuck_naming_what_is_open() -> None:
    # The corpus models once thought to stall SpiffWorkflow (an escalation caught by a non-interrupting event
    # subprocess, an error end event in a parallel branch) had lost their id-less sequence flows, which the
    # parser now names; the rule stays for any real stall.
    from SpiffWorkflow.util.task import TaskState

    from engine.runtime import serializer
    from engine.runtime.stall import stuck_reason

    runner = _runner('<startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="u"/><userTask id="u"/>'
                     '<sequenceFlow id="f2" sourceRef="u" targetRef="e"/><endEvent id="e"/>')
    outcome = runner.start({})
    workflow = serializer.loads(outcome.state, runner.procedure.spec, runner.procedure.subprocess_specs,
                                runner.script_engine)
    assert "still open: nothing" in (stuck_reason(workflow) or "")  # (the runner asks only when nothing is open)
    [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
    task._set_state(TaskState.STARTED)  # what a stalled engine leaves: an activity nobody will move on
    reason = stuck_reason(workflow)
    assert reason is not None and "still open: u" in reason, reason


def test_a_plain_wait_on_a_person_is_not_a_stall() -> None:
    runner = _runner('<startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="u"/><userTask id="u"/>'
                     '<sequenceFlow id="f2" sourceRef="u" targetRef="e"/><endEvent id="e"/>')
    outcome = runner.start({})
    assert outcome.status == "running" and [t.element_id for t in outcome.open_tasks] == ["u"]
