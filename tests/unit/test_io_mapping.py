"""camunda:inputOutput: inputs local to their activity, outputs mapped back, refusals as Camunda makes them."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from engine.bpmn.parser import load_procedure
from engine.errors import ProcedureInvalid
from engine.runtime.procedure import RuntimeProcedure, prepare_spec
from engine.runtime.runner import IncidentFailed, Outcome, Runner
from engine.runtime.script_engine import SafeScriptEngine

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn" / "camunda" / "io_mapping.bpmn"


def runner_for(data: bytes) -> Runner:
    definition = load_procedure(data)
    prepare_spec(definition.spec, definition.subprocess_specs)
    return Runner(RuntimeProcedure("id", definition.key, 1, "sha", definition, definition.spec,
                                   definition.subprocess_specs), SafeScriptEngine())


def complete(runner: Runner, outcome: Outcome, element_id: str, values: dict[str, Any]) -> Outcome:
    task = next(t for t in outcome.open_tasks if t.element_id == element_id)
    return runner.complete(outcome.state, task.id, values)


def test_inputs_are_seen_inside_the_activity_only_and_outputs_come_back() -> None:
    runner = runner_for(FIXTURE.read_bytes())
    outcome = runner.start({"case_id": "C-7", "amount": 5})
    [review] = outcome.open_tasks
    assert review.data == {
        "case_id": "C-7", "amount": 6,  # an input shadows the incident's variable inside the task
        "greeting": "Hello", "doubled": 10, "label": "Case C-7 for 5", "nothing": None,
        "contacts": ["email", "C-7", {"nested": 6}],  # each input sees the ones before it
        "summary": {"case": "C-7", "k_C-7": "fixed"}, "scripted": 61,
    }
    outcome = complete(runner, outcome, "Task_Review", {"decision": "ok"})
    [call] = outcome.open_tasks
    # inputs are gone (the shadowed amount is 5 again); outputs saw the inputs; form data goes on
    assert call.data == {"case_id": "C-7", "amount": 5, "decision": "ok", "review_outcome": "ok/Case C-7 for 5",
                         "seen_amount": 6, "channel": "phone"}
    outcome = complete(runner, outcome, "Task_Call", {"called": True})
    [wait] = outcome.waits
    outcome = runner.deliver(outcome.state, wait, {"reply": "yes"})
    [close] = outcome.open_tasks
    assert close.element_id == "Task_Close"
    assert close.data["reply_text"] == "reply: yes"  # a catch event's output maps the message payload
    assert close.data["contacted_by"] == "phone" and "channel" not in close.data  # the subprocess's local


def test_an_unknown_name_in_a_mapping_fails_the_incident_naming_the_parameter() -> None:
    data = FIXTURE.read_bytes().replace(b"${amount * 2}", b"${amont * 2}")
    runner = runner_for(data)
    with pytest.raises(IncidentFailed, match="inputParameter 'doubled' of Task_Review.*amont"):
        runner.start({"case_id": "C-7", "amount": 5})


def _refusal(data: bytes) -> list[tuple[str | None, str]]:
    with pytest.raises(ProcedureInvalid) as caught:
        load_procedure(data)
    return [(p.rule, p.message) for p in caught.value.problems]


def _with_mapping(where: str, mapping: str) -> bytes:
    text = FIXTURE.read_text(encoding="utf-8")
    text, count = re.subn(where, lambda m: m.group(0) + mapping, text, count=1)
    assert count == 1
    return text.encode()


def _io(body: str) -> str:
    return f"<bpmn:extensionElements><camunda:inputOutput>{body}</camunda:inputOutput></bpmn:extensionElements>"


def test_mappings_camunda_refuses_are_refused_here() -> None:
    mapping = _io('<camunda:outputParameter name="x">1</camunda:outputParameter>')
    data = FIXTURE.read_bytes().replace(b'<bpmn:startEvent id="Start" />',
                                        f'<bpmn:startEvent id="Start">{mapping}</bpmn:startEvent>'.encode())
    [(rule, message)] = _refusal(data)
    assert rule == "bpmn.camunda" and "camunda:inputOutput on startEvent Start" in message


def test_a_script_parameter_in_another_language_is_refused_by_name() -> None:
    data = _with_mapping(r'<bpmn:userTask id="Task_Close"[^>]*>', _io(
        '<camunda:inputParameter name="x"><camunda:script scriptFormat="groovy">1 + 1</camunda:script>'
        '</camunda:inputParameter>'))
    [(rule, message)] = _refusal(data)
    assert rule == "unsupported.script" and "Task_Close" in message and "'groovy'" in message


def test_an_expression_outside_the_safe_language_is_refused_at_upload() -> None:
    data = _with_mapping(r'<bpmn:userTask id="Task_Close"[^>]*>', _io(
        '<camunda:inputParameter name="x">${counter.incrementAndGet()}</camunda:inputParameter>'))
    [(rule, message)] = _refusal(data)
    assert rule == "expression" and "parameter 'x' of Task_Close" in message


def test_outputs_on_a_multi_instance_activity_are_refused_as_in_camunda() -> None:
    mapping = _io('<camunda:outputParameter name="x">1</camunda:outputParameter>')
    loop = ("<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2</bpmn:loopCardinality>"
            "</bpmn:multiInstanceLoopCharacteristics>")
    data = _with_mapping(r'<bpmn:userTask id="Task_Close"[^>]*>', mapping + loop)
    rules = _refusal(data)
    assert any(rule == "bpmn.camunda" and "multi-instance activity Task_Close" in message
               for rule, message in rules)
