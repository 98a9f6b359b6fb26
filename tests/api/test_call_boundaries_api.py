"""A call activity's interrupting timer and message boundary events cancel the child incident; an error or
escalation raised two levels down reaches the grandparent's boundary event through a parent that does not
catch it (Camunda 7 propagates through every caller; the sub-instances in between are deleted)."""
from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from engine.services.timers import fire_due_timers
from tests.support.incidents import frozen

from .helpers import FIXTURES

DEPLOY = FIXTURES.parent / "deployments"
CHILD = DEPLOY / "assess_breach.bpmn"
HEAD = b'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs_%s"
                  targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:error id="Err_Breach" name="Breach confirmed" errorCode="E_BREACH" />
  <bpmn:escalation id="Esc_Legal" name="Legal" escalationCode="ESC_LEGAL" />
  <bpmn:message id="Msg_Withdrawn" name="complaint_withdrawn" />
'''


def _caller(key: str, called: str, boundaries: str, catches: str) -> bytes:
    """A process `key` whose call activity starts `called`, with these boundary events and their paths."""
    return HEAD % key.encode() + f'''
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:startEvent id="{key}_Start" />
    <bpmn:sequenceFlow id="{key}_F1" sourceRef="{key}_Start" targetRef="{key}_Call" />
    <bpmn:callActivity id="{key}_Call" calledElement="{called}">
      <bpmn:extensionElements>
        <camunda:in source="summary" target="summary" />
        <camunda:out source="verdict" target="verdict" />
      </bpmn:extensionElements>
    </bpmn:callActivity>
    {boundaries}
    <bpmn:sequenceFlow id="{key}_F2" sourceRef="{key}_Call" targetRef="{key}_Close" />
    <bpmn:userTask id="{key}_Close" camunda:candidateGroups="compliance" />
    <bpmn:sequenceFlow id="{key}_F3" sourceRef="{key}_Close" targetRef="{key}_End" />
    <bpmn:endEvent id="{key}_End" />
    {catches}
  </bpmn:process>
</bpmn:definitions>'''.encode()


def _path(key: str, boundary: str, task: str) -> str:
    return (f'<bpmn:sequenceFlow id="{boundary}_F" sourceRef="{boundary}" targetRef="{task}" />'
            f'<bpmn:userTask id="{task}" camunda:candidateGroups="compliance" />'
            f'<bpmn:sequenceFlow id="{task}_F" sourceRef="{task}" targetRef="{task}_End" />'
            f'<bpmn:endEvent id="{task}_End" />')


def _deploy(client: Any, *files: tuple[str, bytes]) -> None:
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    response = client.post("/api/v1/deployments", data=data, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()


def _get(client: Any, incident_id: str) -> dict[str, Any]:
    return client.get(f"/api/v1/incidents/{incident_id}").get_json()  # type: ignore[no-any-return]


def _open(incident: dict[str, Any]) -> list[str]:
    return sorted(t["element_id"] for t in incident["open_tasks"])


def _start(client: Any, key: str) -> dict[str, Any]:
    started = client.post("/api/v1/incidents", json={"procedure": key, "test": True, "data": {"summary": "lost laptop"}})
    assert started.status_code == 201, started.get_json()
    return started.get_json()  # type: ignore[no-any-return]


def _child(client: Any, incident_id: str) -> dict[str, Any]:
    [child] = _get(client, incident_id)["child_incidents"]
    return _get(client, child["id"])


def _trail(client: Any, incident_id: str) -> list[str]:
    return [e["kind"] for e in client.get(f"/api/v1/incidents/{incident_id}/audit?test=true").get_json()["items"]]


TIMER = ('<bpmn:boundaryEvent id="Late" attachedToRef="late_Call"><bpmn:timerEventDefinition>'
         '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression" '
         'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">PT4H</bpmn:timeDuration>'
         '</bpmn:timerEventDefinition></bpmn:boundaryEvent>')


def test_an_interrupting_timer_on_a_call_activity_cancels_the_child(client, engine) -> None:  # type: ignore[no-untyped-def]
    _deploy(client, ("late.bpmn", _caller("late", "assess_breach", TIMER, _path("late", "Late", "Chase"))),
            (CHILD.name, CHILD.read_bytes()))
    with frozen() as now:
        parent = _start(client, "late")
        child = _child(client, parent["id"])
        assert child["status"] == "running" and _open(child) == ["As_Assess"]
        now.advance(timedelta(hours=3, minutes=59))
        assert fire_due_timers(engine) == 0
        now.advance(timedelta(minutes=2))
        assert fire_due_timers(engine) == 1
    parent, child = _get(client, parent["id"]), _get(client, child["id"])
    assert parent["status"] == "running" and _open(parent) == ["Chase"]
    assert child["status"] == "cancelled" and child["open_tasks"] == []
    task = client.get(f"/api/v1/incidents/{child['id']}/audit?test=true").get_json()["items"]
    assert any(e["element_id"] == "As_Assess" and e["to_state"] == "cancelled" for e in task)
    assert "call_completed" not in _trail(client, parent["id"])


def test_a_non_interrupting_timer_leaves_the_child_running(client, engine) -> None:  # type: ignore[no-untyped-def]
    soft = TIMER.replace('attachedToRef="late_Call"', 'attachedToRef="late_Call" cancelActivity="false"')
    _deploy(client, ("late.bpmn", _caller("late", "assess_breach", soft, _path("late", "Late", "Chase"))),
            (CHILD.name, CHILD.read_bytes()))
    with frozen() as now:
        parent = _start(client, "late")
        now.advance(timedelta(hours=5))
        assert fire_due_timers(engine) == 1
    child = _child(client, parent["id"])
    assert _open(_get(client, parent["id"])) == ["Chase"] and child["status"] == "running"
    done = client.post(f"/api/v1/tasks/{child['open_tasks'][0]['id']}/complete", json={"data": {"verdict": "fine"}})
    assert done.status_code == 200
    assert _open(_get(client, parent["id"])) == ["Chase", "late_Close"]  # the call completed normally


def test_an_interrupting_message_boundary_on_a_call_activity_cancels_the_child(client) -> None:  # type: ignore[no-untyped-def]
    message = ('<bpmn:boundaryEvent id="Withdrawn" attachedToRef="msg_Call">'
               '<bpmn:messageEventDefinition messageRef="Msg_Withdrawn" /></bpmn:boundaryEvent>')
    _deploy(client, ("msg.bpmn", _caller("msg", "assess_breach", message, _path("msg", "Withdrawn", "Confirm"))),
            (CHILD.name, CHILD.read_bytes()))
    parent = _start(client, "msg")
    child = _child(client, parent["id"])
    sent = client.post("/api/v1/messages", json={"name": "complaint_withdrawn", "incident_id": parent["id"],
                                                 "variables": {"withdrawn_by": "customer"}})
    assert sent.status_code == 200, sent.get_json()
    parent, child = _get(client, parent["id"]), _get(client, child["id"])
    assert _open(parent) == ["Confirm"] and parent["data"]["withdrawn_by"] == "customer"
    assert child["status"] == "cancelled" and child["open_tasks"] == []


GRANDPARENT_CATCHES = (
    '<bpmn:boundaryEvent id="OnBreach" attachedToRef="top_Call"><bpmn:errorEventDefinition errorRef="Err_Breach" />'
    '</bpmn:boundaryEvent><bpmn:boundaryEvent id="OnLegal" attachedToRef="top_Call">'
    '<bpmn:escalationEventDefinition escalationRef="Esc_Legal" /></bpmn:boundaryEvent>')


def _three_levels(client: Any, verdict: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """top -> middle (catches nothing) -> assess_breach; the grandchild's assessment says `verdict`."""
    top = _caller("top", "middle", GRANDPARENT_CATCHES,
                  _path("top", "OnBreach", "Contain") + _path("top", "OnLegal", "CallLegal"))
    _deploy(client, ("top.bpmn", top), ("middle.bpmn", _caller("middle", "assess_breach", "", "")),
            (CHILD.name, CHILD.read_bytes()))
    grandparent = _start(client, "top")
    parent = _child(client, grandparent["id"])
    grandchild = _child(client, parent["id"])
    assert (parent["parent_incident_id"], grandchild["parent_incident_id"]) == (grandparent["id"], parent["id"])
    done = client.post(f"/api/v1/tasks/{grandchild['open_tasks'][0]['id']}/complete",
                       json={"data": {"verdict": verdict, "reason": "seen"}})
    assert done.status_code == 200, done.get_json()
    return _get(client, grandparent["id"]), _get(client, parent["id"]), _get(client, grandchild["id"])


def test_a_grandchild_error_reaches_the_grandparent_boundary_through_an_uncaught_parent(client) -> None:  # type: ignore[no-untyped-def]
    grandparent, parent, grandchild = _three_levels(client, "breach")
    assert grandparent["status"] == "running" and _open(grandparent) == ["Contain"]
    assert grandparent["data"]["verdict"] == "breach"  # camunda:out mapped at each level
    assert parent["status"] == "cancelled" and parent["open_tasks"] == []  # its call activity was still waiting
    assert grandchild["status"] == "completed"
    assert "call_error_caught" in _trail(client, grandparent["id"])
    assert "call_completed" not in _trail(client, parent["id"])


def test_a_grandchild_escalation_reaches_the_grandparent_too(client) -> None:  # type: ignore[no-untyped-def]
    grandparent, parent, _ = _three_levels(client, "legal")
    assert _open(grandparent) == ["CallLegal"] and parent["status"] == "cancelled"
    assert "call_escalation_caught" in _trail(client, grandparent["id"])


def test_an_error_the_whole_chain_leaves_uncaught_ends_like_a_none_end_event(client) -> None:  # type: ignore[no-untyped-def]
    grandparent, parent, grandchild = _three_levels(client, "other")  # E_OTHER: no boundary anywhere
    assert grandchild["status"] == "completed" and parent["status"] == "running"
    assert _open(parent) == ["middle_Close"] and _open(grandparent) == []
