"""Only an active version takes live incidents; drafts run as test incidents, marked as such everywhere."""
from __future__ import annotations

from typing import Any

from tests.support.procedures import activate

from .helpers import FIXTURES, complete, open_task, start, upload

SIMPLE = FIXTURES / "simple_flow.bpmn"


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    assert response.headers["Content-Type"] == "application/problem+json"
    return dict(response.get_json())


def test_a_draft_takes_no_live_incident_and_the_409_says_what_to_do(client: Any) -> None:
    assert upload(client, SIMPLE).status_code == 201
    body = _problem(start(client, "simple_flow", reference="R-1"), 409)
    assert "'simple_flow' has no active version" in body["detail"]
    assert "version 1 of 'simple_flow' is draft" in body["detail"]
    assert '"test": true' in body["detail"] and "approval and activation" in body["detail"]
    assert (body["procedure"], body["version"], body["version_status"]) == ("simple_flow", 1, "draft")
    assert "active_version" not in body  # none is active
    for listing in ("/api/v1/incidents", "/api/v1/incidents?test=true"):  # nothing was created
        assert client.get(listing).get_json()["items"] == []
    assert _problem(start(client, "no_such_procedure"), 422)["errors"][0]["field"] == "procedure"


def test_only_the_active_version_takes_live_incidents(client: Any) -> None:
    upload(client, SIMPLE)
    activate(client, "simple_flow", 1)
    assert upload(client, SIMPLE, process="simple_flow").status_code == 200  # same bytes: still version 1
    changed = SIMPLE.read_bytes().replace(b'name="Simple flow"', b'name="Simple flow v2"')
    assert client.post("/api/v1/procedures", data=changed, content_type="application/xml").status_code == 201

    live = start(client, "simple_flow").get_json()
    assert (live["version"], live["test"]) == (1, False)  # the draft v2 does not take over
    assert all(t["test"] is False for t in live["open_tasks"])
    body = _problem(start(client, "simple_flow", version=2), 409)
    assert "version 2 of 'simple_flow' is draft" in body["detail"] and "active version (1)" in body["detail"]
    assert body["active_version"] == 1
    tried = start(client, "simple_flow", version=2, test=True)
    assert tried.status_code == 201 and (tried.get_json()["version"], tried.get_json()["test"]) == (2, True)
    latest = start(client, "simple_flow", test=True).get_json()
    assert latest["version"] == 2  # a test incident takes the latest version by default
    assert start(client, "simple_flow", test=True, version=1).get_json()["version"] == 1


def test_test_incidents_are_marked_everywhere_and_listed_apart(client: Any, client_as: Any) -> None:
    upload(client, SIMPLE)
    designer = client_as("dana", ["designer"])
    started = start(designer, "simple_flow", {"caller": "C-1"}, test=True)
    assert started.status_code == 201, started.get_json()
    incident = started.get_json()
    assert incident["test"] is True and incident["created_by"] == "dana"
    task = open_task(incident, "Task_Log")  # offered to its lane, and to whoever started the test
    assert task["test"] is True and "dana" in task["candidate_users"]
    done = complete(designer, task, {"summary": "tried", "ok": True})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["test"] is True
    assert {t["element_id"] for t in done.get_json()["open_tasks"]} == {"Task_A", "Task_B"}
    assert designer.get(f"/api/v1/incidents/{incident['id']}").status_code == 200
    assert [r["actor"] for r in designer.get(f"/api/v1/incidents/{incident['id']}/audit").get_json()["items"]
            if r["element_id"] == "Task_Log" and r["to_state"] == "completed"] == ["dana"]
    assert designer.get("/api/v1/tasks?test=true").get_json()["items"][0]["incident_id"] == incident["id"]
    live_id = _live_incident(client)
    for refused in (f"/api/v1/incidents/{live_id}", f"/api/v1/incidents/{live_id}/audit", "/api/v1/tasks",
                    "/api/v1/incidents"):  # a designer works test incidents only
        assert designer.get(refused).status_code == 403, refused

    def ids(url: str) -> list[str]:
        return [item.get("incident_id", item["id"]) for item in client.get(url).get_json()["items"]]

    assert ids("/api/v1/incidents") == [live_id]
    assert ids("/api/v1/incidents?test=true") == [incident["id"]]
    assert set(ids("/api/v1/tasks")) == {live_id}
    assert set(ids("/api/v1/tasks?test=true")) == {incident["id"]}
    assert client.get("/api/v1/tasks?test=true").get_json()["items"][0]["test"] is True
    assert set(ids("/api/v1/audit")) == {live_id}
    assert set(ids("/api/v1/audit?test=true")) == {incident["id"]}
    trail = client.get(f"/api/v1/incidents/{incident['id']}/audit").get_json()["items"]
    assert trail and all(row["test"] is True for row in trail)
    assert client.get(f"/api/v1/incidents/{incident['id']}").get_json()["test"] is True
    assert all(row["test"] is False for row in client.get(f"/api/v1/incidents/{live_id}/audit").get_json()["items"])


def _live_incident(client: Any) -> str:
    activate(client, "simple_flow")
    return str(start(client, "simple_flow", {"caller": "C-2"}).get_json()["id"])


def test_a_reference_is_never_shared_between_a_test_and_a_live_incident(client: Any) -> None:
    upload(client, SIMPLE)
    first = start(client, "simple_flow", test=True, reference="CRM-7")
    assert first.status_code == 201
    again = start(client, "simple_flow", test=True, reference="CRM-7")
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]
    activate(client, "simple_flow")
    body = _problem(start(client, "simple_flow", reference="CRM-7"), 409)
    assert "already taken by a test incident" in body["detail"]


def test_agents_start_live_incidents_only_and_designers_test_ones_only(client: Any, client_as: Any) -> None:
    upload(client, SIMPLE)
    activate(client, "simple_flow")
    agent, designer = client_as("alice", ["agent"], ["team-a"]), client_as("dana", ["designer"])
    assert _problem(start(agent, "simple_flow", test=True), 403)["required_roles"] == ["designer", "ops", "admin"]
    assert _problem(start(designer, "simple_flow"), 403)["required_roles"] == ["agent", "supervisor", "admin"]
    assert start(agent, "simple_flow").status_code == 201
    assert start(designer, "simple_flow", test=True).status_code == 201
