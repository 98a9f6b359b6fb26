"""Error and escalation event subprocesses run as Camunda 7 runs them: started by the throw, innermost scope first."""
from __future__ import annotations

import itertools

import pytest

from engine.bpmn.parser import load_procedure
from engine.errors import ProcedureInvalid
from engine.runtime.procedure import RuntimeProcedure, prepare_spec
from engine.runtime.runner import Outcome, Runner
from engine.runtime.script_engine import SafeScriptEngine

HEAD = ('<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="x">'
        '<error id="E1" errorCode="E1"/><error id="E2" errorCode="E2"/>'
        '<escalation id="X1" escalationCode="X1"/><process id="p" isExecutable="true">')
TAIL = "</process></definitions>"


def handler(esp_id: str, start: str, task: str, interrupting: bool = True, end: str = "") -> str:
    """An event subprocess whose start event holds `start` (an event definition), then a user task `task`."""
    flag = "" if interrupting else ' isInterrupting="false"'
    return (f'<subProcess id="{esp_id}" triggeredByEvent="true"><startEvent id="{esp_id}_start"{flag}>{start}'
            f'</startEvent><userTask id="{task}"/><endEvent id="{esp_id}_end">{end}</endEvent>'
            f'<sequenceFlow id="{esp_id}_f1" sourceRef="{esp_id}_start" targetRef="{task}"/>'
            f'<sequenceFlow id="{esp_id}_f2" sourceRef="{task}" targetRef="{esp_id}_end"/></subProcess>')


def chain(prefix: str, *nodes: str) -> str:
    """Sequence flows joining the ids in order."""
    return "".join(f'<sequenceFlow id="{prefix}{i}" sourceRef="{a}" targetRef="{b}"/>'
                   for i, (a, b) in enumerate(itertools.pairwise(nodes)))


ERROR_END = '<endEvent id="fail"><errorEventDefinition errorRef="{code}"/></endEvent>'
# the process: work, then an error end event; beside it (parallel) a task `side`
TOP = (HEAD + '<startEvent id="s"/><parallelGateway id="fork"/><userTask id="work"/><userTask id="side"/>'
       '<endEvent id="side_end"/>{throw}' + chain("m", "s", "fork", "work", "fail") + chain("n", "fork", "side", "side_end")
       + "{handlers}" + TAIL)
# an embedded subprocess doing the same, with `after` following it
NESTED = (HEAD + '<startEvent id="s"/><subProcess id="sub"><startEvent id="ss"/><userTask id="work"/>{throw}'
          + chain("m", "ss", "work", "fail") + '{inner}</subProcess>{boundary}<userTask id="after"/><endEvent id="e"/>'
          + chain("n", "s", "sub", "after", "e") + "{outer}" + TAIL)


def runner_for(xml: str) -> Runner:
    definition = load_procedure(xml.encode())
    prepare_spec(definition.spec, definition.subprocess_specs)
    return Runner(RuntimeProcedure("id", definition.key, 1, "sha", definition, definition.spec,
                                   definition.subprocess_specs), SafeScriptEngine())


def names(outcome: Outcome) -> list[str]:
    return sorted(t.element_id for t in outcome.open_tasks)


def complete(runner: Runner, outcome: Outcome, element_id: str, values: dict | None = None) -> Outcome:
    task = next(t.id for t in outcome.open_tasks if t.element_id == element_id)
    return runner.complete(outcome.state, task, values or {})


def moved(outcome: Outcome, state: str) -> list[str]:
    return [t.element_id for t in outcome.transitions if t.to_state == state and t.element_id]


def test_an_interrupting_error_event_subprocess_waits_for_the_error_then_ends_the_process() -> None:
    runner = runner_for(TOP.format(throw=ERROR_END.format(code="E1"),
                                   handlers=handler("esp", '<errorEventDefinition errorRef="E1"/>', "handle")))
    started = runner.start({})
    assert names(started) == ["side", "work"]  # not started with its scope
    caught = complete(runner, started, "work")
    assert names(caught) == ["handle"] and caught.status == "running"
    assert "side" in moved(caught, "cancelled") and "esp" in moved(caught, "started")
    done = complete(runner, caught, "handle")
    assert done.status == "completed" and done.raised == []


def test_a_nested_interrupting_error_event_subprocess_closes_its_subprocess_and_the_flow_goes_on() -> None:
    runner = runner_for(NESTED.format(throw=ERROR_END.format(code="E1"), boundary="", outer="",
                                      inner=handler("esp", "<errorEventDefinition/>", "handle")))
    caught = complete(runner, runner.start({}), "work")
    assert names(caught) == ["handle"]
    after = complete(runner, caught, "handle")
    assert names(after) == ["after"] and "sub" in moved(after, "completed")
    assert complete(runner, after, "after").status == "completed"


@pytest.mark.parametrize(("code", "expected"), [("E1", "specific"), ("E2", "anything")])
def test_a_specific_error_code_beats_a_catch_all_one_in_the_same_scope(code: str, expected: str) -> None:
    handlers = (handler("catch_all", "<errorEventDefinition/>", "anything")
                + handler("exact", '<errorEventDefinition errorRef="E1"/>', "specific"))
    runner = runner_for(TOP.format(throw=ERROR_END.format(code=code), handlers=handlers))
    assert names(complete(runner, runner.start({}), "work")) == [expected]


def test_an_event_subprocess_goes_before_a_boundary_event_of_its_scope() -> None:
    boundary = ('<boundaryEvent id="on_error" attachedToRef="sub"><errorEventDefinition errorRef="E1"/>'
                '</boundaryEvent><userTask id="boundary_path"/>' + chain("b", "on_error", "boundary_path", "e"))
    runner = runner_for(NESTED.format(throw=ERROR_END.format(code="E1"), boundary=boundary, outer="",
                                      inner=handler("esp", "<errorEventDefinition/>", "handle")))
    assert names(complete(runner, runner.start({}), "work")) == ["handle"]  # Camunda's precedence 10 over 1


def test_an_error_nothing_in_its_scope_catches_goes_outwards_and_takes_the_subprocess_away() -> None:
    runner = runner_for(NESTED.format(throw=ERROR_END.format(code="E1"), boundary="", inner="",
                                      outer=handler("top", '<errorEventDefinition errorRef="E1"/>', "handle")))
    caught = complete(runner, runner.start({}), "work")
    assert names(caught) == ["handle"] and "sub" in moved(caught, "cancelled")
    assert complete(runner, caught, "handle").status == "completed"  # never reaches `after`


def test_a_rethrow_from_an_event_subprocess_goes_to_the_boundary_event_of_its_scope_not_to_itself() -> None:
    boundary = ('<boundaryEvent id="on_error" attachedToRef="sub"><errorEventDefinition errorRef="E1"/>'
                '</boundaryEvent><userTask id="boundary_path"/>' + chain("b", "on_error", "boundary_path", "e"))
    rethrow = handler("esp", "<errorEventDefinition/>", "handle", end='<errorEventDefinition errorRef="E1"/>')
    runner = runner_for(NESTED.format(throw=ERROR_END.format(code="E1"), boundary=boundary, outer="", inner=rethrow))
    caught = complete(runner, runner.start({}), "work")
    rethrown = complete(runner, caught, "handle")
    assert names(rethrown) == ["boundary_path"] and "after" not in moved(rethrown, "ready")
    assert complete(runner, rethrown, "boundary_path").status == "completed"


def test_an_uncaught_error_ends_its_path_as_a_none_end_event_and_is_raised_for_a_caller() -> None:
    runner = runner_for(TOP.format(throw=ERROR_END.format(code="E2"),
                                   handlers=handler("esp", '<errorEventDefinition errorRef="E1"/>', "handle")))
    thrown = complete(runner, runner.start({}), "work")
    assert names(thrown) == ["side"] and [(r.kind, r.code) for r in thrown.raised] == [("error", "E2")]
    assert complete(runner, thrown, "side").status == "completed"


ESCALATING = (HEAD + '<startEvent id="s"/><subProcess id="sub"><startEvent id="ss"/><userTask id="work"/>'
              '<intermediateThrowEvent id="raise"><escalationEventDefinition escalationRef="X1"/>'
              '</intermediateThrowEvent><userTask id="more"/><endEvent id="se"/>'
              + chain("m", "ss", "work", "raise", "more", "se") + "{inner}</subProcess>"
              '<endEvent id="e"/>' + chain("n", "s", "sub", "e") + "{outer}" + TAIL)


def test_a_non_interrupting_escalation_event_subprocess_runs_beside_its_scope_each_time() -> None:
    inner = handler("esp", '<escalationEventDefinition escalationRef="X1"/>', "look", interrupting=False)
    looping = ESCALATING.replace('targetRef="se"/>', 'targetRef="again"/><exclusiveGateway id="again" default="m9"/>'
                                 '<sequenceFlow id="m8" sourceRef="again" targetRef="work"><conditionExpression>'
                                 '${{loop == 1}}</conditionExpression></sequenceFlow>'
                                 '<sequenceFlow id="m9" sourceRef="again" targetRef="se"/>', 1)
    runner = runner_for(looping.format(inner=inner, outer=""))
    first = complete(runner, runner.start({}), "work")
    assert names(first) == ["look", "more"]  # the scope goes on
    second = complete(runner, complete(runner, first, "more", {"loop": 1}), "work")
    assert names(second) == ["look", "look", "more"]  # a second instance beside the first
    rest = complete(runner, second, "more", {"loop": 0})
    assert names(rest) == ["look", "look"] and rest.status == "running"  # the scope waits for its instances
    for _ in range(2):
        rest = complete(runner, rest, "look")
    assert rest.status == "completed"


def test_an_interrupting_escalation_event_subprocess_in_the_process_cancels_the_subprocess() -> None:
    outer = handler("esp", "<escalationEventDefinition/>", "look")
    runner = runner_for(ESCALATING.format(inner="", outer=outer))
    caught = complete(runner, runner.start({}), "work")
    assert names(caught) == ["look"] and "more" in moved(caught, "cancelled")
    assert complete(runner, caught, "look").status == "completed"


def test_an_uncaught_escalation_is_ignored_and_raised_for_a_caller() -> None:
    runner = runner_for(ESCALATING.format(inner="", outer=""))
    thrown = complete(runner, runner.start({}), "work")
    assert names(thrown) == ["more"] and [(r.kind, r.code) for r in thrown.raised] == [("escalation", "X1")]


EXTERNAL = (HEAD + '<startEvent id="s"/><subProcess id="sub"><startEvent id="ss"/>'
            '<serviceTask id="call" camunda:type="external" camunda:topic="billing"/><endEvent id="se"/>'
            + chain("m", "ss", "call", "se") + "{inner}</subProcess><userTask id=\"after\"/><endEvent id=\"e\"/>"
            + chain("n", "s", "sub", "after", "e") + TAIL)


def test_an_external_task_bpmn_error_is_caught_by_the_event_subprocess_of_its_scope() -> None:
    runner = runner_for(EXTERNAL.format(inner=handler("esp", '<errorEventDefinition errorRef="E1"/>', "handle")))
    started = runner.start({})
    service = started.services[0]
    caught = runner.throw_error(started.state, service.task_id, "E1", {"reason": "card declined"})
    assert names(caught) == ["handle"] and caught.services == []
    assert caught.open_tasks[0].data["reason"] == "card declined"
    assert names(complete(runner, caught, "handle")) == ["after"]
    with pytest.raises(LookupError):
        runner.throw_error(started.state, service.task_id, "E2", {})


def test_a_child_incidents_error_is_caught_by_the_event_subprocess_around_the_call_activity() -> None:
    calling = EXTERNAL.replace('<serviceTask id="call" camunda:type="external" camunda:topic="billing"/>',
                               '<callActivity id="call" calledElement="elsewhere"/>')
    runner = runner_for(calling.format(inner=handler("esp", "<escalationEventDefinition/>", "handle",
                                                     interrupting=False)))
    started = runner.start({})
    call = started.services[0]
    caught = runner.catch_at_call(started.state, call.task_id, "escalation", "X9", {"level": 3})
    assert names(caught) == ["handle"] and [s.element_id for s in caught.services] == ["call"]  # not interrupted
    with pytest.raises(LookupError):
        runner.catch_at_call(started.state, call.task_id, "error", "E1", {})


def test_a_non_interrupting_error_start_event_is_refused_as_camunda_refuses_it() -> None:
    xml = TOP.format(throw=ERROR_END.format(code="E1"),
                     handlers=handler("esp", "<errorEventDefinition/>", "handle", interrupting=False))
    with pytest.raises(ProcedureInvalid) as refused:
        load_procedure(xml.encode())
    assert ("bpmn.camunda", "esp_start") in {(p.rule, p.element_id) for p in refused.value.problems}


def test_the_caught_code_and_message_go_into_the_variables_the_catching_event_names() -> None:
    start = '<errorEventDefinition camunda:errorCodeVariable="code" camunda:errorMessageVariable="why"/>'
    runner = runner_for(EXTERNAL.format(inner=handler("esp", start, "handle")))
    started = runner.start({})
    caught = runner.throw_error(started.state, started.services[0].task_id, "E2", {}, "card declined")
    assert {k: caught.open_tasks[0].data.get(k) for k in ("code", "why")} == {"code": "E2", "why": "card declined"}
    thrown = ESCALATING.replace("<endEvent id=\"e\"/>", '<endEvent id="e"/><boundaryEvent id="on_x" attachedToRef="sub" '
                                'cancelActivity="false"><escalationEventDefinition camunda:escalationCodeVariable="x"/>'
                                '</boundaryEvent><userTask id="look"/><endEvent id="le"/>' + chain("b", "on_x", "look", "le"))
    runner = runner_for(thrown.format(inner="", outer=""))
    escalated = complete(runner, runner.start({}), "work")
    assert names(escalated) == ["look", "more"]
    assert next(t.data for t in escalated.open_tasks if t.element_id == "look")["x"] == "X1"
    definition = load_procedure(thrown.format(inner="", outer="").encode())
    assert not [w for w in definition.warnings if "CodeVariable" in w.message]  # honoured, not warned


@pytest.mark.parametrize(("xml", "element"), [
    (ESCALATING.replace('escalationRef="X1"/></intermediateThrowEvent>', "/></intermediateThrowEvent>"), "raise"),
    (ESCALATING.replace('<escalation id="X1" escalationCode="X1"/>', '<escalation id="X1"/>'), "raise"),
    (ESCALATING.replace("{inner}", handler("a", "<escalationEventDefinition/>", "ta", interrupting=False)
                        + handler("b", "<escalationEventDefinition/>", "tb", interrupting=False)), "b_start"),
    (ESCALATING.replace('<endEvent id="e"/>', '<endEvent id="e"/>' + "".join(
        f'<boundaryEvent id="on{i}" attachedToRef="sub"><escalationEventDefinition escalationRef="X1"/>'
        f'</boundaryEvent><endEvent id="be{i}"/><sequenceFlow id="bf{i}" sourceRef="on{i}" targetRef="be{i}"/>'
        for i in (1, 2))), "on2"),
])
def test_escalation_shapes_camunda_refuses_are_refused(xml: str, element: str) -> None:
    with pytest.raises(ProcedureInvalid) as refused:
        load_procedure(xml.format(inner="", outer="").encode())
    assert ("bpmn.camunda", element) in {(p.rule, p.element_id) for p in refused.value.problems}
