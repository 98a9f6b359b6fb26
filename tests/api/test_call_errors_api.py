"""Errors and escalations a child incident raises reach its parent's call activity; camunda:in/out local."""
from __future__ import annotations

import io
from typing import Any

from .helpers import FIXTURES

DEPLOY = FIXTURES.parent / "deployments"
PARENT, CHILD = DEPLOY / "handle_breach.bpmn", DEPLOY / "assess_breach.bpmn"


def _deploy(client: Any, *files: tuple[str, bytes]) -> Any:
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post("/api/v1/deployments", data=data, content_type="multipart/form-data")


def _get(client: Any, incident_id: str) -> dict[str, Any]:
    return client.get(f"/api/v1/incidents/{incident_id}").get_json()  # type: ignore[no-any-return]


def _run(client: Any, verdict: str, parent: bytes | None = None) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """Deploy, start the parent, complete the child's assessment with `verdict`: (parent, child, response)."""
    response = _deploy(client, (PARENT.name, parent or PARENT.read_bytes()), (CHILD.name, CHILD.read_bytes()))
    assert response.status_code == 201, response.get_json()
    started = client.post("/api/v1/incidents", json={"procedure": "handle_breach", "test": True,
                                                     "data": {"summary": "laptop lost"}})
    assert started.status_code == 201, started.get_json()
    parent_id = started.get_json()["id"]
    child_id = _get(client, parent_id)["child_incidents"][0]["id"]
    task = _get(client, child_id)["open_tasks"][0]
    done = client.post(f"/api/v1/tasks/{task['id']}/complete",
                       json={"data": {"verdict": verdict, "reason": f"because {verdict}"}})
    assert done.status_code == 200, done.get_json()
    return _get(client, parent_id), _get(client, child_id), done.get_json()


def _open(incident: dict[str, Any]) -> list[str]:
    return sorted(t["element_id"] for t in incident["open_tasks"])


def _trail(client: Any, incident_id: str) -> list[dict[str, Any]]:
    return client.get(f"/api/v1/incidents/{incident_id}/audit?test=true").get_json()["items"]  # type: ignore[no-any-return]


def test_an_error_end_event_reaches_the_boundary_event_of_its_code(client) -> None:  # type: ignore[no-untyped-def]
    parent, child, _ = _run(client, "breach")
    assert parent["status"] == "running" and _open(parent) == ["Hb_Contain"]
    assert parent["data"]["verdict"] == "breach" and parent["data"]["reason"] == "because breach"  # camunda:out
    assert child["status"] == "completed"
    caught = [e for e in _trail(client, parent["id"]) if e["kind"] == "call_error_caught"]
    assert caught and caught[0]["data"]["code"] == "E_BREACH" and caught[0]["data"]["child_incident_id"] == child["id"]
    kinds = [e["kind"] for e in _trail(client, parent["id"])]
    assert "call_completed" not in kinds and kinds.index("call_started") < kinds.index("call_error_caught")
    for incident_id in (parent["id"], child["id"]):  # the start's audit rows went in together, still chained
        assert client.get(f"/api/v1/incidents/{incident_id}/audit/verify").get_json()["valid"] is True


def test_an_error_of_another_code_goes_to_the_catch_all_boundary(client) -> None:  # type: ignore[no-untyped-def]
    parent, _child, _ = _run(client, "other")
    assert _open(parent) == ["Hb_Other"]


def test_an_interrupting_escalation_boundary_takes_over(client) -> None:  # type: ignore[no-untyped-def]
    parent, child, _ = _run(client, "legal")
    assert _open(parent) == ["Hb_Legal"] and child["status"] == "completed"
    assert any(e["kind"] == "call_escalation_caught" and e["data"]["code"] == "ESC_LEGAL"
               for e in _trail(client, parent["id"]))


def test_a_non_interrupting_escalation_leaves_the_child_running(client) -> None:  # type: ignore[no-untyped-def]
    parent, child, _ = _run(client, "note")
    assert _open(parent) == ["Hb_Note"] and parent["data"]["verdict"] == "note"
    assert child["status"] == "running" and _open(child) == ["As_Finish"]
    finished = client.post(f"/api/v1/tasks/{child['open_tasks'][0]['id']}/complete", json={"data": {}})
    assert finished.status_code == 200
    assert _open(_get(client, parent["id"])) == ["Hb_Close", "Hb_Note"]  # the call activity completed normally


def test_an_interrupting_catch_cancels_a_child_that_still_runs(client) -> None:  # type: ignore[no-untyped-def]
    interrupting = PARENT.read_bytes().replace(b'attachedToRef="Hb_Call" cancelActivity="false"',
                                               b'attachedToRef="Hb_Call"')
    parent, child, response = _run(client, "note", parent=interrupting)
    assert _open(parent) == ["Hb_Note"] and child["status"] == "cancelled" and child["open_tasks"] == []
    assert response["status"] == "cancelled"  # the child's own response says so (same transaction)


def test_an_error_nothing_catches_ends_the_child_like_a_none_end_event(client) -> None:  # type: ignore[no-untyped-def]
    bare = PARENT.read_bytes()
    start, end = bare.index(b'<bpmn:boundaryEvent id="Hb_OnBreach"'), bare.index(b'<bpmn:sequenceFlow id="Hb_F2"')
    bare = bare[:start] + bare[end:]
    bare = bare[:bare.index(b'<bpmn:sequenceFlow id="Hb_F4"')] + b"</bpmn:process></bpmn:definitions>"
    parent, child, _ = _run(client, "breach", parent=bare)
    assert child["status"] == "completed" and parent["status"] == "running"
    assert _open(parent) == ["Hb_Close"] and parent["data"]["verdict"] == "breach"


def _task_data(engine: Any, incident_id: str, task_id: str) -> dict[str, Any]:
    """The variables a task of the incident's saved workflow sees."""
    from uuid import UUID

    from engine.db import incident_rows

    with engine.db.begin() as conn:
        row = incident_rows.lock(conn, incident_id)
        runner = engine.runner(engine.runtime_by_id(conn, row["procedure_id"]))
    return dict(runner.load(row["state"]).get_task_from_id(UUID(task_id)).data)


def test_local_in_reads_the_call_activity_own_variables_and_local_out_stays_in_it(client, engine) -> None:  # type: ignore[no-untyped-def]
    local = PARENT.read_bytes().replace(
        b'<camunda:in source="summary" target="summary" />',
        b'<camunda:inputOutput><camunda:inputParameter name="hint">${summary + "!"}</camunda:inputParameter>'
        b'<camunda:outputParameter name="verdict_seen">${raw_verdict}</camunda:outputParameter></camunda:inputOutput>'
        b'<camunda:in source="hint" target="hint" local="true" />'
        b'<camunda:in source="summary" target="summary" local="true" />'
        b'<camunda:out source="verdict" target="raw_verdict" local="true" />')
    response = _deploy(client, (PARENT.name, local), (CHILD.name, CHILD.read_bytes()))
    assert response.status_code == 201, response.get_json()
    started = client.post("/api/v1/incidents", json={"procedure": "handle_breach", "test": True,
                                                     "data": {"summary": "laptop lost"}}).get_json()
    child = _get(client, _get(client, started["id"])["child_incidents"][0]["id"])
    assert child["data"] == {"hint": "laptop lost!", "summary": None}  # summary is not the call activity's own
    task = child["open_tasks"][0]
    assert client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"verdict": "fine"}}).status_code == 200
    parent = _get(client, started["id"])
    assert _open(parent) == ["Hb_Close"]
    seen = _task_data(engine, parent["id"], parent["open_tasks"][0]["id"])
    assert seen["verdict_seen"] == "fine"  # the output parameter saw the local camunda:out
    assert "raw_verdict" not in seen and "hint" not in seen and "raw_verdict" not in parent["data"]


def test_local_with_a_source_expression_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    bad = PARENT.read_bytes().replace(b'<camunda:in source="summary" target="summary" />',
                                      b'<camunda:in sourceExpression="${summary}" target="summary" local="true" />')
    response = _deploy(client, (PARENT.name, bad), (CHILD.name, CHILD.read_bytes()))
    assert response.status_code == 422
    assert any("local" in e["message"] and e["rule"] == "unsupported.call" for e in response.get_json()["errors"])
