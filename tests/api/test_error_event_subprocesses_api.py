"""Error and escalation event subprocesses through the API: the queue, the timers and the audit trail follow
Camunda's path (issue 12); on SQLite and PostgreSQL."""
from __future__ import annotations

from typing import Any

from .helpers import FIXTURES, complete, open_task, start, upload
from .test_call_errors_api import PARENT, _run, _task_data, _trail


def _queue(client: Any) -> list[str]:
    items = client.get("/api/v1/tasks", query_string={"test": "true"}).get_json()["items"]
    return sorted(t["element_id"] for t in items)


def _begin(client: Any) -> dict[str, Any]:
    created = upload(client, FIXTURES / "camunda" / "error_event_subprocess.bpmn")
    assert created.status_code == 201, created.get_json()
    assert not [w for w in created.get_json().get("warnings", []) if "Variable" in w["message"]]  # honoured
    incident = start(client, "error_event_subprocess", {"case_id": "C-3"}, test=True).get_json()
    assert sorted(t["element_id"] for t in incident["open_tasks"]) == ["Task_Assess", "Task_Watch"]
    assert incident["next_timer_at"] is not None
    return incident  # type: ignore[no-any-return]


def test_an_error_interrupts_the_process_closes_its_tasks_and_timers_and_runs_the_handler(client: Any,
                                                                                         engine: Any) -> None:
    incident = _begin(client)
    caught = complete(client, open_task(incident, "Task_Assess"), {"verdict": "breach"})
    assert caught.status_code == 200, caught.get_json()
    body = caught.get_json()
    assert [t["element_id"] for t in body["open_tasks"]] == ["Task_Contain"] and body["status"] == "running"
    assert body["next_timer_at"] is None  # the reminder went with the cancelled task
    assert _queue(client) == ["Task_Contain"]
    trail = client.get(f"/api/v1/incidents/{body['id']}/audit").get_json()["items"]
    moves = {(r["element_id"], r["to_state"]) for r in trail}
    assert {("Task_Watch", "cancelled"), ("Timer_Remind", "cancelled"), ("End_Breach", "completed"),
            ("Sub_Breach", "started"), ("Task_Contain", "ready")} <= moves
    handler = open_task(body, "Task_Contain")
    seen = _task_data(engine, body["id"], handler["id"])
    assert (seen["error_code"], seen["error_message"]) == ("E_BREACH", "personal data left the company")
    done = complete(client, handler, {"contained": True}).get_json()
    assert done["status"] == "completed" and _queue(client) == []


def test_a_non_interrupting_escalation_runs_its_handler_beside_the_process(client: Any) -> None:
    incident = _begin(client)
    body = complete(client, open_task(incident, "Task_Assess"), {"verdict": "fine"}).get_json()
    assert sorted(t["element_id"] for t in body["open_tasks"]) == ["Task_Brief", "Task_Watch"]
    assert body["next_timer_at"] is not None and _queue(client) == ["Task_Brief", "Task_Watch"]
    body = complete(client, open_task(body, "Task_Watch"), {}).get_json()
    assert body["status"] == "running"  # the handler's instance keeps the process open
    assert complete(client, open_task(body, "Task_Brief"), {}).get_json()["status"] == "completed"


def test_a_child_incidents_error_starts_the_error_event_subprocess_of_the_caller(client: Any, engine: Any) -> None:
    parent = PARENT.read_bytes()
    start_at, end_at = parent.index(b'<bpmn:boundaryEvent id="Hb_OnBreach"'), parent.index(b'<bpmn:sequenceFlow id="Hb_F2"')
    handler = (b'<bpmn:subProcess id="Hb_Esp" triggeredByEvent="true"><bpmn:startEvent id="Hb_EspStart">'
               b'<bpmn:errorEventDefinition errorRef="Err_Breach" camunda:errorCodeVariable="code"/>'
               b'</bpmn:startEvent><bpmn:sequenceFlow id="Hb_E1" sourceRef="Hb_EspStart" targetRef="Hb_Handle"/>'
               b'<bpmn:userTask id="Hb_Handle" camunda:candidateGroups="compliance"/>'
               b'<bpmn:sequenceFlow id="Hb_E2" sourceRef="Hb_Handle" targetRef="Hb_EspEnd"/>'
               b'<bpmn:endEvent id="Hb_EspEnd"/></bpmn:subProcess>')
    parent = parent[:start_at] + handler + parent[end_at:]
    parent = parent[:parent.index(b'<bpmn:sequenceFlow id="Hb_F4"')] + b"</bpmn:process></bpmn:definitions>"
    caller, child, _ = _run(client, "breach", parent=parent)
    assert child["status"] == "completed" and caller["status"] == "running"
    assert sorted(t["element_id"] for t in caller["open_tasks"]) == ["Hb_Handle"]  # not Hb_Close
    assert _task_data(engine, caller["id"], open_task(caller, "Hb_Handle")["id"])["code"] == "E_BREACH"
    kinds = [(e["kind"], e["element_id"], e["to_state"]) for e in _trail(client, caller["id"])]
    assert ("call_error_caught", "Hb_Call", None) in kinds and ("task", "Hb_Call", "cancelled") in kinds
