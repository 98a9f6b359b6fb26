"""Call activities across files: the called process runs as its own child incident, linked to its parent."""
from __future__ import annotations

import io
from typing import Any

from .helpers import FIXTURES

DEPLOY = FIXTURES.parent / "deployments"
PARENT, CHILD = DEPLOY / "breach.bpmn", DEPLOY / "notify_regulator.bpmn"
START = {"summary": "laptop lost", "severity": 3, "ref": "B-1"}


def _deploy(client: Any, *files: tuple[str, bytes]) -> Any:
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post("/api/v1/deployments", data=data, content_type="multipart/form-data")


def _both(client: Any, parent: bytes | None = None, child: bytes | None = None) -> None:
    response = _deploy(client, (PARENT.name, parent or PARENT.read_bytes()), (CHILD.name, child or CHILD.read_bytes()))
    assert response.status_code == 201, response.get_json()


def _start(client: Any, procedure: str = "breach", **data: Any) -> dict[str, Any]:
    response = client.post("/api/v1/incidents", json={"procedure": procedure, "data": data or START, "test": True})
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _get(client: Any, incident_id: str) -> dict[str, Any]:
    return client.get(f"/api/v1/incidents/{incident_id}").get_json()  # type: ignore[no-any-return]


def test_the_child_runs_and_its_completion_resumes_the_parent(client) -> None:  # type: ignore[no-untyped-def]
    _both(client)
    parent = _start(client)
    assert parent["status"] == "running" and parent["open_tasks"] == []
    children = _get(client, parent["id"])["child_incidents"]
    assert [(c["procedure"], c["status"]) for c in children] == [("notify_regulator", "running")]
    child = _get(client, children[0]["id"])
    assert child["parent_incident_id"] == parent["id"] and child["reference"] == "REG-B-1"
    assert child["data"] == {"case_summary": "laptop lost", "weight": 6}
    task = child["open_tasks"][0]
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"regulator_ref": "ICO-9"}})
    assert done.status_code == 200 and done.get_json()["status"] == "completed"
    resumed = _get(client, parent["id"])
    assert [t["element_id"] for t in resumed["open_tasks"]] == ["Br_Close"]
    assert resumed["data"]["regulator_ref"] == "ICO-9" and "weight" not in resumed["data"]
    trail = [e["kind"] for e in client.get(f"/api/v1/incidents/{parent['id']}/audit?test=true").get_json()["items"]]
    assert "call_started" in trail and "call_completed" in trail


def test_cancelling_the_parent_cancels_the_child(client) -> None:  # type: ignore[no-untyped-def]
    _both(client)
    parent = _start(client)
    child_id = _get(client, parent["id"])["child_incidents"][0]["id"]
    assert client.post(f"/api/v1/incidents/{parent['id']}/cancel", json={"reason": "duplicate"}).status_code == 200
    assert _get(client, child_id)["status"] == "cancelled"


def test_a_failing_child_puts_the_parent_in_error(client) -> None:  # type: ignore[no-untyped-def]
    failing = CHILD.read_bytes().replace(
        b'<bpmn:sequenceFlow id="Nr_F1" sourceRef="Nr_Start" targetRef="Nr_Notify" />',
        b'<bpmn:sequenceFlow id="Nr_F1" sourceRef="Nr_Start" targetRef="Nr_Script" />'
        b'<bpmn:scriptTask id="Nr_Script" scriptFormat="python"><bpmn:script>x = weight / (weight - weight)</bpmn:script>'
        b'</bpmn:scriptTask><bpmn:sequenceFlow id="Nr_F0" sourceRef="Nr_Script" targetRef="Nr_Notify" />')
    _both(client, child=failing)
    parent = _start(client)
    assert _get(client, parent["id"])["status"] == "error"
    assert "notify_regulator" in _get(client, parent["id"])["error"]


def test_a_call_cycle_ends_in_error_not_a_hang(client) -> None:  # type: ignore[no-untyped-def]
    loop = CHILD.read_bytes().replace(
        b'<bpmn:userTask id="Nr_Notify" name="Send the notification" camunda:candidateGroups="compliance" />',
        b'<bpmn:callActivity id="Nr_Notify" calledElement="breach" />')
    _deploy(client, (CHILD.name, CHILD.read_bytes()))
    assert _deploy(client, (PARENT.name, PARENT.read_bytes())).status_code == 201
    assert _deploy(client, ("loop.bpmn", loop)).status_code == 201  # notify_regulator v2 calls breach
    parent = _start(client)
    assert _get(client, parent["id"])["status"] == "error"
    assert "cycle" in _get(client, parent["id"])["error"]


def test_an_unknown_called_process_is_refused_at_deploy(client) -> None:  # type: ignore[no-untyped-def]
    response = _deploy(client, (PARENT.name, PARENT.read_bytes()))
    assert response.status_code == 422
    entry = response.get_json()["errors"][0]
    assert (entry["rule"], entry["element_id"], entry["file"]) == ("reference.unresolved", "Br_Call", PARENT.name)


def test_a_pinned_version_binding_runs_that_version(client) -> None:  # type: ignore[no-untyped-def]
    pinned = PARENT.read_bytes().replace(b'calledElement="notify_regulator"',
                                         b'calledElement="notify_regulator" camunda:calledElementBinding="version" '
                                         b'camunda:calledElementVersion="1"')
    _both(client, parent=pinned)
    changed = CHILD.read_bytes().replace(b"Send the notification", b"Send the notification (v2)")
    assert _deploy(client, (CHILD.name, changed)).status_code == 201
    child = _get(client, _get(client, _start(client)["id"])["child_incidents"][0]["id"])
    assert (child["procedure"], child["version"]) == ("notify_regulator", 1)


def test_a_chain_deeper_than_the_limit_ends_in_error(database_url: str) -> None:
    from api import create_app
    from engine.services.engine_app import IncidentEngine
    from tests.conftest import admin_test_client, make_settings

    settings = make_settings(database_url, call_depth_limit=2)
    eng = IncidentEngine(settings)
    try:
        client = admin_test_client(create_app(settings, eng))
        middle = CHILD.read_bytes().replace(b'id="notify_regulator"', b'id="middle"').replace(
            b'<bpmn:userTask id="Nr_Notify" name="Send the notification" camunda:candidateGroups="compliance" />',
            b'<bpmn:callActivity id="Nr_Notify" calledElement="notify_regulator" />')
        top = PARENT.read_bytes().replace(b'calledElement="notify_regulator"', b'calledElement="middle"')
        assert _deploy(client, (CHILD.name, CHILD.read_bytes()), ("middle.bpmn", middle),
                       (PARENT.name, top)).status_code == 201
        parent = _start(client)
        assert _get(client, parent["id"])["status"] == "error"
        assert "deeper than 2" in _get(client, parent["id"])["error"]
    finally:
        eng.db.dispose()


def test_what_a_call_cannot_honour_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    for change, words in ((b'calledElement="${target}"', "calledElement"),
                          (b'calledElement="notify_regulator" camunda:calledElementTenantId="acme"', "TenantId")):
        bad = PARENT.read_bytes().replace(b'calledElement="notify_regulator"', change)
        response = _deploy(client, (PARENT.name, bad), (CHILD.name, CHILD.read_bytes()))
        assert response.status_code == 422, response.get_json()
        assert any(words in e["message"] for e in response.get_json()["errors"])
