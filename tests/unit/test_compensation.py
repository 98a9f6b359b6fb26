"""Compensation (engine.bpmn.compensation + engine.runtime.compensation): handlers run as real tasks, in reverse
order of completion, from records that survive saves and pruning; shapes that cannot run are refused."""
from __future__ import annotations

import re
from typing import Any

import pytest

from engine.bpmn.parser import load_procedure
from engine.errors import ProcedureInvalid
from engine.runtime import compensation, serializer
from engine.runtime.procedure import RuntimeProcedure, prepare_spec
from engine.runtime.runner import Outcome, Runner
from engine.runtime.script_engine import SafeScriptEngine

HEAD = ('<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="x">'
        '<process id="p" isExecutable="true">')
TAIL = "</process></definitions>"


def _xml(body: str) -> bytes:
    # artifacts (associations) come after the flow elements in the BPMN schema
    associations = re.findall(r"<association [^>]*/>", body)
    return (HEAD + re.sub(r"<association [^>]*/>", "", body) + "".join(associations) + TAIL).encode()


def _runner(body: str) -> Runner:
    definition = load_procedure(_xml(body))
    prepare_spec(definition.spec, definition.subprocess_specs)
    return Runner(RuntimeProcedure("id", definition.key, 1, "sha", definition, definition.spec,
                                   definition.subprocess_specs), SafeScriptEngine())


def _flow(source: str, target: str, condition: str | None = None) -> str:
    cond = (f'<conditionExpression xsi:type="tFormalExpression">{condition}</conditionExpression>'
            if condition else "")
    return f'<sequenceFlow id="{source}_{target}" sourceRef="{source}" targetRef="{target}">{cond}</sequenceFlow>'


def _compensable(activity: str, handler: str, tag: str = "userTask", handler_tag: str = "userTask",
                 handler_body: str = "", handler_attrs: str = "") -> str:
    """An activity with a compensation boundary event associated with its handler."""
    return (f'<{tag} id="{activity}"/>'
            f'<boundaryEvent id="{activity}_comp" attachedToRef="{activity}"><compensateEventDefinition/></boundaryEvent>'
            f'<{handler_tag} id="{handler}" isForCompensation="true" {handler_attrs}>{handler_body}</{handler_tag}>'
            f'<association id="{activity}_assoc" sourceRef="{activity}_comp" targetRef="{handler}"/>')


def _fresh(state: str) -> str:
    return state.encode().decode()  # a new string: the runner deserializes it instead of reusing its workflow


def _complete(runner: Runner, outcome: Outcome, element: str, values: dict[str, Any] | None = None) -> Outcome:
    task = next(t for t in outcome.open_tasks if t.element_id == element)
    return runner.complete(_fresh(outcome.state), task.id, values or {})


def _kinds(outcome: Outcome, *kinds: str) -> list[tuple[str, str]]:
    return [(t.kind, t.element_id) for t in outcome.transitions if t.kind in kinds]


BOOKING = (
    '<startEvent id="s"/>' + _flow("s", "bookHotel")
    + _compensable("bookHotel", "undoHotel")
    + _flow("bookHotel", "bookFlight")
    + _compensable("bookFlight", "undoFlight", handler_tag="scriptTask",
                   handler_body="<script>flight_cancelled = True</script>", handler_attrs='scriptFormat="python"')
    + _flow("bookFlight", "decide") + '<userTask id="decide"/>' + _flow("decide", "gw")
    + '<exclusiveGateway id="gw" default="gw_end"/>' + '<sequenceFlow id="gw_end" sourceRef="gw" targetRef="end"/>'
    + _flow("gw", "undo", "ok == False")
    + '<intermediateThrowEvent id="undo"><compensateEventDefinition/></intermediateThrowEvent>'
    + _flow("undo", "notify") + '<userTask id="notify"/>' + _flow("notify", "end2")
    + '<endEvent id="end"/><endEvent id="end2"/>'
)


def _booked(runner: Runner) -> Outcome:
    outcome = runner.start({"customer": "C-1"})
    outcome = _complete(runner, outcome, "bookHotel", {"hotel": "H-9"})
    outcome = _complete(runner, outcome, "bookFlight", {"flight": "F-3"})
    assert [t.element_id for t in outcome.open_tasks] == ["decide"]
    return outcome


def test_a_throw_runs_every_handler_of_its_scope_in_reverse_order_as_real_tasks() -> None:
    runner = _runner(BOOKING)
    outcome = _complete(runner, _booked(runner), "decide", {"ok": False})
    # the flight was booked last: its (script) handler runs first, then the hotel's waits for a person
    assert _kinds(outcome, "compensation_started", "compensation_completed") == [
        ("compensation_started", "undoFlight"), ("compensation_completed", "undoFlight"),
        ("compensation_started", "undoHotel")]
    started = next(t for t in outcome.transitions if t.kind == "compensation_started")
    assert started.data == {"compensates": "bookFlight", "handler": "undoFlight", "throw": "undo"}
    [handler] = outcome.open_tasks
    assert handler.element_id == "undoHotel" and handler.data["flight_cancelled"] is True
    assert handler.data["hotel"] == "H-9" and "_compensation_next" not in handler.data
    assert outcome.status == "running"
    # waitForCompletion: the throw goes on only when the hotel's handler is done
    outcome = _complete(runner, outcome, "undoHotel", {"refund": 120})
    assert _kinds(outcome, "compensation_completed") == [("compensation_completed", "undoHotel")]
    assert ("task", "undo") in [(t.kind, t.element_id) for t in outcome.transitions if t.to_state == "completed"]
    [notify] = outcome.open_tasks
    assert notify.element_id == "notify" and notify.data["refund"] == 120
    assert not any(k.startswith("_compensation") for k in notify.data)
    outcome = _complete(runner, outcome, "notify")
    assert outcome.status == "completed"


def test_no_compensation_when_the_throw_is_not_reached() -> None:
    runner = _runner(BOOKING)
    outcome = _complete(runner, _booked(runner), "decide", {"ok": True})
    assert outcome.status == "completed" and not _kinds(outcome, "compensation_started")


def test_the_records_survive_saves_and_pruning_of_the_finished_history() -> None:
    runner = _runner(BOOKING)
    outcome = _booked(runner)
    workflow = serializer.loads(outcome.state, runner.procedure.spec, runner.procedure.subprocess_specs,
                                runner.script_engine)
    # prune dropped the finished bookings from the task tree before the save ...
    assert not any(t.task_spec.bpmn_id == "bookHotel" for t in workflow.get_tasks())
    # ... but the root keeps the record of each completed compensable activity, in order
    assert [(r["element"], r["scope"]) for r in compensation.records(workflow)] == [
        ("bookHotel", ""), ("bookFlight", "")]
    outcome = _complete(runner, outcome, "decide", {"ok": False})
    assert [t.element_id for t in outcome.open_tasks] == ["undoHotel"]
    workflow = serializer.loads(outcome.state, runner.procedure.spec, runner.procedure.subprocess_specs,
                                runner.script_engine)
    assert compensation.records(workflow) == []  # compensated once: the records are taken


def test_activity_ref_compensates_that_activity_only() -> None:
    runner = _runner(BOOKING.replace('<intermediateThrowEvent id="undo"><compensateEventDefinition/>',
                                     '<intermediateThrowEvent id="undo"><compensateEventDefinition '
                                     'activityRef="bookHotel" waitForCompletion="true"/>'))
    outcome = _complete(runner, _booked(runner), "decide", {"ok": False})
    assert _kinds(outcome, "compensation_started") == [("compensation_started", "undoHotel")]
    outcome = _complete(runner, outcome, "undoHotel")
    assert [t.element_id for t in outcome.open_tasks] == ["notify"]
    assert "flight_cancelled" not in outcome.open_tasks[0].data


def test_an_activity_is_compensated_once_and_an_unfinished_one_not_at_all() -> None:
    body = ('<startEvent id="s"/>' + _flow("s", "a") + _compensable("a", "undoA", tag="task",
                                                                     handler_tag="task")
            + _flow("a", "t1") + '<intermediateThrowEvent id="t1"><compensateEventDefinition/></intermediateThrowEvent>'
            + _flow("t1", "b") + _compensable("b", "undoB") + _flow("b", "t2")
            + '<endEvent id="t2"><compensateEventDefinition/></endEvent>')
    runner = _runner(body)
    outcome = runner.start({})
    # a plain task handler passes through; b has not run, so the first throw compensates a only
    assert _kinds(outcome, "compensation_completed") == [("compensation_completed", "undoA")]
    outcome = _complete(runner, outcome, "b")
    # the end event compensates b, not a again
    assert _kinds(outcome, "compensation_started") == [("compensation_started", "undoB")]
    outcome = _complete(runner, outcome, "undoB")
    assert outcome.status == "completed"


SUBPROCESS = (
    '<startEvent id="s"/>' + _flow("s", "trip")
    + '<subProcess id="trip"><startEvent id="ts"/>' + _flow("ts", "hotel") + _compensable("hotel", "undoHotel")
    + _flow("hotel", "car") + _compensable("car", "undoCar", handler_tag="subProcess",
                                           handler_body='<startEvent id="us"/>' + _flow("us", "callRental")
                                           + '<userTask id="callRental"/>' + _flow("callRental", "ue")
                                           + '<endEvent id="ue"/>')
    + _flow("car", "te") + '<endEvent id="te"/></subProcess>'
    + _flow("trip", "review") + '<userTask id="review"/>' + _flow("review", "cancelAll")
    + '<endEvent id="cancelAll"><compensateEventDefinition activityRef="trip"/></endEvent>'
)


def test_compensating_a_subprocess_compensates_what_ran_inside_it_in_reverse_order() -> None:
    runner = _runner(SUBPROCESS)
    outcome = runner.start({})
    outcome = _complete(runner, outcome, "hotel")
    outcome = _complete(runner, outcome, "car")
    outcome = _complete(runner, outcome, "review")
    # the car's handler is a subprocess: its user task is what a person sees
    assert [t.element_id for t in outcome.open_tasks] == ["callRental"]
    outcome = _complete(runner, outcome, "callRental")
    assert [t.element_id for t in outcome.open_tasks] == ["undoHotel"]
    outcome = _complete(runner, outcome, "undoHotel")
    assert outcome.status == "completed"


def test_each_completed_instance_of_a_multi_instance_activity_is_compensated_with_its_own_variables() -> None:
    body = ('<startEvent id="s"/>' + _flow("s", "book")
            + _compensable("book", "undo").replace(
                '<userTask id="book"/>',
                '<userTask id="book"><multiInstanceLoopCharacteristics isSequential="true" '
                'camunda:collection="items" camunda:elementVariable="item"/></userTask>')
            + _flow("book", "throw") + '<intermediateThrowEvent id="throw"><compensateEventDefinition/>'
            '</intermediateThrowEvent>' + _flow("throw", "e") + '<endEvent id="e"/>')
    runner = _runner(body)
    outcome = runner.start({"items": ["x", "y", "z"]})
    for _ in range(3):
        outcome = _complete(runner, outcome, "book")
    seen = []
    for _ in range(3):
        [task] = outcome.open_tasks
        assert task.element_id == "undo"
        seen.append((task.data["item"], task.data["loopCounter"]))
        outcome = _complete(runner, outcome, "undo")
    assert seen == [("z", 2), ("y", 1), ("x", 0)]
    assert outcome.status == "completed"


def test_a_compensation_event_subprocess_compensates_its_subprocess() -> None:
    body = ('<startEvent id="s"/>' + _flow("s", "trip")
            + '<subProcess id="trip"><startEvent id="ts"/>' + _flow("ts", "hotel")
            + _compensable("hotel", "undoHotel") + _flow("hotel", "te") + '<endEvent id="te"/>'
            + '<subProcess id="onCompensate" triggeredByEvent="true">'
            '<startEvent id="cs"><compensateEventDefinition/></startEvent>' + _flow("cs", "first")
            + '<userTask id="first"/>' + _flow("first", "again")
            + '<intermediateThrowEvent id="again"><compensateEventDefinition activityRef="hotel"/>'
            '</intermediateThrowEvent>' + _flow("again", "ce") + '<endEvent id="ce"/></subProcess>'
            + '</subProcess>' + _flow("trip", "undo")
            + '<intermediateThrowEvent id="undo"><compensateEventDefinition/></intermediateThrowEvent>'
            + _flow("undo", "e") + '<endEvent id="e"/>')
    runner = _runner(body)
    outcome = _complete(runner, runner.start({}), "hotel")
    assert [t.element_id for t in outcome.open_tasks] == ["first"]
    outcome = _complete(runner, outcome, "first")
    assert [t.element_id for t in outcome.open_tasks] == ["undoHotel"]
    outcome = _complete(runner, outcome, "undoHotel")
    assert outcome.status == "completed"


def _problems(body: str) -> list[tuple[str | None, str | None, str]]:
    with pytest.raises(ProcedureInvalid) as info:
        load_procedure(_xml(body))
    return [(p.rule, p.element_id, p.message) for p in info.value.problems]


def test_shapes_that_cannot_run_are_refused_naming_the_element() -> None:
    flows_on_handler = ('<startEvent id="s"/>' + _flow("s", "a") + _compensable("a", "undo") + _flow("a", "undo")
                        + _flow("undo", "e") + '<endEvent id="e"/>')
    assert any(rule == "bpmn.camunda" and element == "undo" and "sequence flows" in message
               for rule, element, message in _problems(flows_on_handler))
    other_scope = ('<startEvent id="s"/>' + _flow("s", "sub") + '<subProcess id="sub"><startEvent id="ss"/>'
                   + _flow("ss", "a") + _compensable("a", "undo") + _flow("a", "se") + '<endEvent id="se"/>'
                   + '</subProcess>' + _flow("sub", "t")
                   + '<intermediateThrowEvent id="t"><compensateEventDefinition activityRef="a"/>'
                   '</intermediateThrowEvent>' + _flow("t", "e") + '<endEvent id="e"/>')
    assert any(rule == "bpmn.camunda" and element == "t" and "same scope" in message
               for rule, element, message in _problems(other_scope))
    top_event_subprocess = ('<startEvent id="s"/>' + _flow("s", "e") + '<endEvent id="e"/>'
                            '<subProcess id="ev" triggeredByEvent="true"><startEvent id="cs">'
                            '<compensateEventDefinition/></startEvent>' + _flow("cs", "ce")
                            + '<endEvent id="ce"/></subProcess>')
    assert any(rule == "bpmn.camunda" and element == "ev" for rule, element, _ in _problems(top_event_subprocess))
    call_handler = ('<startEvent id="s"/>' + _flow("s", "a") + _compensable("a", "undo", handler_tag="callActivity",
                                                                          handler_attrs='calledElement="other"')
                    + _flow("a", "e") + '<endEvent id="e"/>')
    assert any(rule == "unsupported.compensation" and element == "undo"
               for rule, element, _ in _problems(call_handler))


def test_what_has_no_effect_is_a_warning() -> None:
    body = ('<startEvent id="s"/>' + _flow("s", "a") + '<userTask id="a"/>'
            '<boundaryEvent id="b" attachedToRef="a"><compensateEventDefinition/></boundaryEvent>'
            '<userTask id="lonely" isForCompensation="true"/>' + _flow("a", "t")
            + '<intermediateThrowEvent id="t"><compensateEventDefinition waitForCompletion="false"/>'
            '</intermediateThrowEvent>' + _flow("t", "e") + '<endEvent id="e"/>')
    warnings = {(w.element_id, w.message.split(":")[0]) for w in load_procedure(_xml(body)).warnings
                if w.rule == "compensation"}
    assert ("b", "compensation boundary event b has no associated handler") in warnings
    assert ("lonely", "compensation activity lonely is associated with no compensation boundary event") in warnings
    assert any(element == "t" and "waitForCompletion" in text for element, text in warnings)


def _corpus_runner(fragment: str) -> Runner:
    from tests.corpus_yardstick import corpus

    definition = load_procedure(next(corpus().glob(f"*{fragment}*")).read_bytes())
    prepare_spec(definition.spec, definition.subprocess_specs)
    return Runner(RuntimeProcedure("id", definition.key, 1, "sha", definition, definition.spec,
                                   definition.subprocess_specs), SafeScriptEngine())


@pytest.mark.corpus
def test_camunda_model_compensating_every_instance_of_a_multi_instance_subprocess() -> None:
    runner = _corpus_runner("CompensateEventTest.testCompensateActivityRefMiSubprocess.")
    outcome = runner.start({})
    for _ in range(5):
        outcome = _complete(runner, outcome, "bookHotel")
    outcome = _complete(runner, outcome, "task", {"accept": False})
    undone = 0
    while outcome.open_tasks:
        assert [t.element_id for t in outcome.open_tasks] == ["undoBookHotel"]
        outcome = _complete(runner, outcome, "undoBookHotel")
        undone += 1
    assert undone == 5 and outcome.status == "completed"


@pytest.mark.corpus
def test_camunda_model_with_a_compensation_event_subprocess_per_instance() -> None:
    runner = _corpus_runner("testCompensateMiSubprocessWithCompensationEventSubProcess")
    outcome = runner.start({"flights": ["LH-1", "AF-2"]})
    for _ in range(2):  # each instance books its flight and its hotel
        for element in ("bookFlight", "bookHotel"):
            outcome = _complete(runner, outcome, element)
    outcome = _complete(runner, outcome, "validateBooking", {"valid": False})
    done = []
    while outcome.open_tasks:
        [task] = outcome.open_tasks
        done.append((task.element_id, task.data.get("flight")))
        outcome = _complete(runner, outcome, task.element_id)
    # the latest instance first; in each, the event subprocess compensates the flight, then the hotel
    assert done == [("cancelFlight", "AF-2"), ("cancelHotel", "AF-2"), ("updateCustomerRecord", "AF-2"),
                    ("cancelFlight", "LH-1"), ("cancelHotel", "LH-1"), ("updateCustomerRecord", "LH-1")]
    assert outcome.status == "completed"


TRANSACTION = (
    '<startEvent id="s"/>' + _flow("s", "tx")
    + '<transaction id="tx"><startEvent id="txs"/>' + _flow("txs", "hotel") + _compensable("hotel", "undoHotel")
    + _flow("hotel", "flight") + _compensable("flight", "undoFlight") + _flow("flight", "pay")
    + '<userTask id="pay"/>' + _flow("pay", "txgw") + '<exclusiveGateway id="txgw" default="txgw_ok"/>'
    + '<sequenceFlow id="txgw_ok" sourceRef="txgw" targetRef="txe"/>' + _flow("txgw", "txcancel", "paid == False")
    + '<endEvent id="txe"/><endEvent id="txcancel"><cancelEventDefinition/></endEvent></transaction>'
    + '<boundaryEvent id="cancelled" attachedToRef="tx"><cancelEventDefinition/></boundaryEvent>'
    + _flow("cancelled", "apologise") + '<userTask id="apologise"/>' + _flow("apologise", "e2") + '<endEvent id="e2"/>'
    + _flow("tx", "e") + '<endEvent id="e"/>'
)


def _paying(runner: Runner) -> Outcome:
    outcome = runner.start({})
    for element in ("hotel", "flight"):
        outcome = _complete(runner, outcome, element)
    return outcome


def test_cancelling_a_transaction_compensates_what_completed_inside_it_then_takes_the_cancel_flow() -> None:
    runner = _runner(TRANSACTION)
    outcome = _complete(runner, _paying(runner), "pay", {"paid": False})
    assert [t.element_id for t in outcome.open_tasks] == ["undoFlight"]
    outcome = _complete(runner, outcome, "undoFlight")
    assert [t.element_id for t in outcome.open_tasks] == ["undoHotel"]
    outcome = _complete(runner, outcome, "undoHotel")
    assert [t.element_id for t in outcome.open_tasks] == ["apologise"]
    outcome = _complete(runner, outcome, "apologise")
    assert outcome.status == "completed"


def test_a_transaction_that_completes_compensates_nothing() -> None:
    runner = _runner(TRANSACTION)
    outcome = _complete(runner, _paying(runner), "pay", {"paid": True})
    assert outcome.status == "completed" and not _kinds(outcome, "compensation_started")


def test_a_throw_in_an_event_subprocess_compensates_the_scope_it_belongs_to() -> None:
    body = ('<startEvent id="s"/>' + _flow("s", "book") + _compensable("book", "undo") + _flow("book", "wait")
            + '<userTask id="wait"/>' + _flow("wait", "e") + '<endEvent id="e"/>'
            + '<subProcess id="onCancel" triggeredByEvent="true"><startEvent id="es"><messageEventDefinition '
            'messageRef="cancel"/></startEvent>' + _flow("es", "comp")
            + '<intermediateThrowEvent id="comp"><compensateEventDefinition activityRef="book"/>'
            '</intermediateThrowEvent>' + _flow("comp", "ee") + '<endEvent id="ee"/></subProcess>')
    xml = _xml(body).replace(b'<process id="p"', b'<message id="cancel" name="cancel"/><process id="p"')
    definition = load_procedure(xml)
    prepare_spec(definition.spec, definition.subprocess_specs)
    runner = Runner(RuntimeProcedure("id", definition.key, 1, "sha", definition, definition.spec,
                                     definition.subprocess_specs), SafeScriptEngine())
    outcome = _complete(runner, runner.start({}), "book")
    assert [t.element_id for t in outcome.open_tasks] == ["wait"]
    [wait] = [w for w in outcome.waits if w.name == "cancel"]
    outcome = runner.deliver(_fresh(outcome.state), wait, {})
    assert [t.element_id for t in outcome.open_tasks] == ["undo"]  # the interrupting event subprocess compensates
    outcome = _complete(runner, outcome, "undo")
    assert outcome.status == "completed"


def test_a_call_activity_of_the_same_file_is_compensable_one_of_another_file_is_refused() -> None:
    body = ('<startEvent id="s"/>' + _flow("s", "call") + _compensable("call", "undo").replace(
        '<userTask id="call"/>', '<callActivity id="call" calledElement="other"/>')
        + _flow("call", "t") + '<endEvent id="t"><compensateEventDefinition/></endEvent>')
    other = ('<process id="other"><startEvent id="os"/><sequenceFlow id="of" sourceRef="os" targetRef="oe"/>'
             '<endEvent id="oe"/></process>')
    xml = _xml(body).replace(b"</definitions>", other.encode() + b"</definitions>")
    definition = load_procedure(xml)
    prepare_spec(definition.spec, definition.subprocess_specs)
    runner = Runner(RuntimeProcedure("id", definition.key, 1, "sha", definition, definition.spec,
                                     definition.subprocess_specs), SafeScriptEngine())
    outcome = runner.start({})
    assert [t.element_id for t in outcome.open_tasks] == ["undo"]
    assert _complete(runner, outcome, "undo").status == "completed"
    elsewhere = body.replace('calledElement="other"', 'calledElement="inAnotherFile"')
    assert any(rule == "unsupported.compensation" and element == "call_comp"
               for rule, element, _ in _problems(elsewhere))
