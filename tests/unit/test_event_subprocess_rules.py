"""Event subprocesses SpiffWorkflow 3.2 would start at the wrong moment are refused at upload, not run wrongly."""
from __future__ import annotations

import pytest

from engine.bpmn.parser import load_procedure
from engine.errors import ProcedureInvalid

HEAD = ('<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">'
        '<message id="m" name="customer_called"/><process id="p" isExecutable="true">'
        '<startEvent id="s"/><userTask id="work"/><endEvent id="e"/>'
        '<sequenceFlow id="f1" sourceRef="s" targetRef="work"/><sequenceFlow id="f2" sourceRef="work" targetRef="e"/>')


def _with_event_subprocess(definition: str) -> bytes:
    return (HEAD + '<subProcess id="esp" triggeredByEvent="true">'
            f'<startEvent id="es">{definition}</startEvent><userTask id="handle"/><endEvent id="ee"/>'
            '<sequenceFlow id="f3" sourceRef="es" targetRef="handle"/>'
            '<sequenceFlow id="f4" sourceRef="handle" targetRef="ee"/></subProcess></process></definitions>').encode()


@pytest.mark.parametrize("definition", ["<errorEventDefinition/>", "<escalationEventDefinition/>"])
def test_error_and_escalation_event_subprocesses_are_refused_naming_the_start(definition: str) -> None:
    with pytest.raises(ProcedureInvalid) as refused:
        load_procedure(_with_event_subprocess(definition))
    rules = {(p.rule, p.element_id) for p in refused.value.problems}
    assert ("unsupported.event_subprocess", "es") in rules
    assert any("boundary event" in p.message for p in refused.value.problems)


def test_a_message_event_subprocess_is_still_accepted() -> None:
    definition = load_procedure(_with_event_subprocess('<messageEventDefinition messageRef="m"/>'))
    assert definition.key == "p"
