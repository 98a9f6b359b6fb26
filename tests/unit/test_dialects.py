"""The Operaton namespace is Camunda 7's under another name; a "Camunda Cloud" marker is judged by content."""
from __future__ import annotations

import pytest

from engine.bpmn.parser import load_procedure
from engine.errors import ProcedureInvalid

OPERATON = "http://operaton.org/schema/1.0/bpmn"
MODELER = "http://camunda.org/schema/modeler/1.0"


def model(task: str, *, root_attrs: str = "") -> bytes:
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:operaton="{OPERATON}"
    xmlns:modeler="{MODELER}" id="d" targetNamespace="t" {root_attrs}>
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="S"/>
    <bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="T"/>
    {task}
    <bpmn:sequenceFlow id="f2" sourceRef="T" targetRef="E"/>
    <bpmn:endEvent id="E"/>
  </bpmn:process>
</bpmn:definitions>'''.encode()


def test_operaton_forms_and_candidates_are_read_as_camunda() -> None:
    definition = load_procedure(model(
        '<bpmn:userTask id="T" operaton:candidateGroups="service-desk" operaton:formKey="embedded:app:x">'
        '<bpmn:extensionElements><operaton:formData><operaton:formField id="summary" type="string" '
        'label="Summary"><operaton:validation><operaton:constraint name="required"/></operaton:validation>'
        '</operaton:formField></operaton:formData></bpmn:extensionElements></bpmn:userTask>'))
    task = definition.user_task("T")
    assert task is not None and task.candidate_groups == ("service-desk",)
    assert [(f.id, f.required) for f in task.form] == [("summary", True)] and task.form_key == "embedded:app:x"


@pytest.mark.parametrize(("task", "expected"), [
    ('<bpmn:serviceTask id="T" operaton:class="org.example.Send"/>', "uses camunda:class: a Java delegate"),
    ('<bpmn:serviceTask id="T" operaton:type="external"/>', "external task without a camunda:topic"),
    ('<bpmn:userTask id="T"><bpmn:extensionElements><operaton:taskListener class="a.B" event="create"/>'
     '</bpmn:extensionElements></bpmn:userTask>', "listeners run Java"),
])
def test_operaton_java_is_refused_like_camunda_java(task: str, expected: str) -> None:
    with pytest.raises(ProcedureInvalid) as caught:
        load_procedure(model(task))
    assert any(expected in p.message and p.element_id == "T" for p in caught.value.problems)


def test_an_operaton_external_task_runs_with_its_topic() -> None:
    definition = load_procedure(model('<bpmn:serviceTask id="T" operaton:type="external" operaton:topic="notify"/>'))
    assert definition.nodes["T"].topic == "notify"


def test_a_camunda_cloud_marker_without_zeebe_content_is_plain_bpmn() -> None:
    marked = 'modeler:executionPlatform="Camunda Cloud" modeler:executionPlatformVersion="8.5.0"'
    definition = load_procedure(model('<bpmn:userTask id="T"/>', root_attrs=marked))
    assert definition.key == "p"
    with pytest.raises(ProcedureInvalid, match="Camunda 8"):
        load_procedure(model('<bpmn:serviceTask id="T"><bpmn:extensionElements><zeebe:taskDefinition '
                             'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" type="x"/></bpmn:extensionElements>'
                             '</bpmn:serviceTask>', root_attrs=marked))
