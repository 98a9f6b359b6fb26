"""An external task's bpmnError is caught as Camunda 7 catches it: the task's boundary event of that code
beats its catch-all one, then the enclosing subprocess's boundary events; never a boundary event of another
activity that happens to be waiting (SpiffWorkflow's own catch fired every match and fell back to any)."""
from __future__ import annotations

from typing import Any

import pytest

from tests.support.procedures import activate

from .conftest import REST
from .shapes import is_error
from .test_external_task import fetch


def _bpmn(task_boundaries: str) -> bytes:
    """A subprocess running an external task (topic charge-card) beside a user task with a boundary of
    its own (E_OUTER); the subprocess has an E_OUTER boundary; `task_boundaries` go on the external task."""
    def path(source: str, target: str) -> str:
        return (f'<bpmn:sequenceFlow id="F_{source}" sourceRef="{source}" targetRef="{target}" />'
                f'<bpmn:userTask id="{target}" camunda:candidateGroups="ops" />'
                f'<bpmn:sequenceFlow id="F_{target}" sourceRef="{target}" targetRef="End_{target}" />'
                f'<bpmn:endEvent id="End_{target}" />')

    inner = "".join(path(b, t) for b, t in (("Specific", "Task_Specific"), ("AnyError", "Task_AnyError"))
                    if f'id="{b}"' in task_boundaries)
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs_scopes" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:error id="Err_Specific" name="Specific" errorCode="E_SPECIFIC" />
  <bpmn:error id="Err_Outer" name="Outer" errorCode="E_OUTER" />
  <bpmn:process id="error_scopes" isExecutable="true">
    <bpmn:startEvent id="Start" />
    <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Sub" />
    <bpmn:subProcess id="Sub">
      <bpmn:startEvent id="Sub_Start" />
      <bpmn:sequenceFlow id="S1" sourceRef="Sub_Start" targetRef="Split" />
      <bpmn:parallelGateway id="Split" />
      <bpmn:sequenceFlow id="S2" sourceRef="Split" targetRef="Task_Charge" />
      <bpmn:sequenceFlow id="S3" sourceRef="Split" targetRef="Task_Sibling" />
      <bpmn:serviceTask id="Task_Charge" camunda:type="external" camunda:topic="charge-card" />
      {task_boundaries}
      <bpmn:userTask id="Task_Sibling" camunda:candidateGroups="ops" />
      <bpmn:boundaryEvent id="SiblingOuter" attachedToRef="Task_Sibling">
        <bpmn:errorEventDefinition errorRef="Err_Outer" /></bpmn:boundaryEvent>
      {path("SiblingOuter", "Task_SiblingCaught")}
      {inner}
      <bpmn:sequenceFlow id="S4" sourceRef="Task_Charge" targetRef="Join" />
      <bpmn:sequenceFlow id="S5" sourceRef="Task_Sibling" targetRef="Join" />
      <bpmn:parallelGateway id="Join" />
      <bpmn:sequenceFlow id="S6" sourceRef="Join" targetRef="Sub_End" />
      <bpmn:endEvent id="Sub_End" />
    </bpmn:subProcess>
    <bpmn:boundaryEvent id="SubOuter" attachedToRef="Sub"><bpmn:errorEventDefinition errorRef="Err_Outer" />
    </bpmn:boundaryEvent>
    {path("SubOuter", "Task_SubCaught")}
    <bpmn:sequenceFlow id="F2" sourceRef="Sub" targetRef="End" />
    <bpmn:endEvent id="End" />
  </bpmn:process>
</bpmn:definitions>'''.encode()


BOTH = ('<bpmn:boundaryEvent id="Specific" attachedToRef="Task_Charge"><bpmn:errorEventDefinition '
        'errorRef="Err_Specific" /></bpmn:boundaryEvent><bpmn:boundaryEvent id="AnyError" '
        'attachedToRef="Task_Charge"><bpmn:errorEventDefinition /></bpmn:boundaryEvent>')
NONE = ""


def _open(client: Any, instance_id: str) -> list[str]:
    return sorted(t["taskDefinitionKey"] for t in client.get(f"{REST}/task?processInstanceId={instance_id}").get_json())


@pytest.fixture
def worker(rest_as: Any) -> Any:
    return rest_as("robot", ("integration",), ("charge-card",))


def _start(client: Any, task_boundaries: str) -> tuple[str, str]:
    response = client.post("/api/v1/procedures", data=_bpmn(task_boundaries), content_type="application/xml")
    assert response.status_code == 201, response.get_json()
    activate(client, "error_scopes")
    started = client.post(f"{REST}/process-definition/key/error_scopes/start", json={})
    assert started.status_code == 200, started.get_json()
    return started.get_json()["id"], ""


@pytest.mark.parametrize(("code", "opened"), [("E_SPECIFIC", "Task_Specific"), ("E_OUTER", "Task_AnyError"),
                                              ("E_ANYTHING", "Task_AnyError")])
def test_the_task_boundary_of_that_code_beats_its_catch_all_and_the_outer_scopes(
        client: Any, worker: Any, code: str, opened: str) -> None:
    instance, _ = _start(client, BOTH)
    [task] = fetch(worker)
    assert worker.post(f"{REST}/external-task/{task['id']}/bpmnError",
                       json={"workerId": "w1", "errorCode": code}).status_code == 204
    assert _open(client, instance) == sorted([opened, "Task_Sibling"])  # one catcher, the sibling untouched


def test_uncaught_at_the_task_the_enclosing_subprocess_catches_it_not_a_sibling(client: Any, worker: Any) -> None:
    instance, _ = _start(client, NONE)
    [task] = fetch(worker)
    assert worker.post(f"{REST}/external-task/{task['id']}/bpmnError",
                       json={"workerId": "w1", "errorCode": "E_OUTER"}).status_code == 204
    assert _open(client, instance) == ["Task_SubCaught"]  # the subprocess (and Task_Sibling in it) ended


def test_caught_nowhere_is_refused_and_changes_nothing(client: Any, worker: Any) -> None:
    instance, _ = _start(client, NONE)
    [task] = fetch(worker)
    body = is_error(worker.post(f"{REST}/external-task/{task['id']}/bpmnError",
                                json={"workerId": "w1", "errorCode": "E_SPECIFIC"}), 400)
    assert "E_SPECIFIC" in body["message"]
    assert _open(client, instance) == ["Task_Sibling"]
