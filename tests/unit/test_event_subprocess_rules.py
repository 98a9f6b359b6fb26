"""Error and escalation event subprocesses are accepted (engine.runtime.error_events runs them); a non-interrupting
error start is refused, as Camunda refuses it."""
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
def test_error_and_escalation_event_subprocesses_are_accepted_as_triggers_of_their_scope(definition: str) -> None:
    loaded = load_procedure(_with_event_subprocess(definition))
    assert loaded.spec.start.trigger_specs == ["esp"]  # started by the throw, not with the process


def test_a_non_interrupting_error_event_subprocess_is_refused_as_camunda_refuses_it() -> None:
    xml = _with_event_subprocess("<errorEventDefinition/>").replace(b'<startEvent id="es">',
                                                                    b'<startEvent id="es" isInterrupting="false">')
    with pytest.raises(ProcedureInvalid) as refused:
        load_procedure(xml)
    assert ("bpmn.camunda", "es") in {(p.rule, p.element_id) for p in refused.value.problems}


def test_a_message_event_subprocess_is_still_accepted() -> None:
    definition = load_procedure(_with_event_subprocess('<messageEventDefinition messageRef="m"/>'))
    assert definition.key == "p"
