"""POST /api/v1/conditions (conditional start events), POST /api/v1/incidents/{id}/variables (conditional
events listen to it) and their Camunda forms (/engine-rest/condition, /process-instance/{id}/variables)."""
from __future__ import annotations

from typing import Any

import pytest

from engine.services.engine_app import IncidentEngine
from tests.support.events import deploy

from .helpers import open_task, start


def test_a_true_condition_starts_an_incident_and_a_false_one_does_not(client: Any, engine: IncidentEngine) -> None:
    deploy(engine, "condition_start")
    none = client.post("/api/v1/conditions", json={"variables": {"amount": 10}})
    assert none.status_code == 200 and none.get_json()["started"] == []
    started = client.post("/api/v1/conditions", json={"variables": {"amount": 5000}, "reference": "RF-1"})
    assert started.status_code == 200, started.get_json()
    [one] = started.get_json()["started"]
    assert (one["procedure"], one["element_id"]) == ("condition_start", "Start_LargeRefund")
    incident = one["incident"]
    assert incident["reference"] == "RF-1" and incident["data"]["amount"] == 5000
    assert open_task(incident, "Task_Review")["element_id"] == "Task_Review"
    trail = client.get(f"/api/v1/incidents/{incident['id']}/audit").get_json()["items"]
    began = next(r for r in trail if r["kind"] == "incident_started")
    assert began["data"]["by"] == "conditional" and began["data"]["start_event"] == "Start_LargeRefund"
    again = client.post("/api/v1/conditions", json={"variables": {"amount": 5000}, "reference": "RF-1"})
    assert again.status_code == 409  # that reference has its incident


def test_a_condition_that_cannot_be_evaluated_is_false_and_named(client: Any, engine: IncidentEngine) -> None:
    deploy(engine, "condition_start")
    body = client.post("/api/v1/conditions", json={"variables": {"amount": "lots"}}).get_json()
    assert body["started"] == [] and "could not be evaluated" in body["skipped"][0]["reason"]


def test_no_procedure_with_a_conditional_start_is_404(client: Any, engine: IncidentEngine) -> None:
    deploy(engine, "condition_start", active=False)  # only active versions start
    response = client.post("/api/v1/conditions", json={"variables": {"amount": 5000}})
    assert response.status_code == 404 and response.headers["Content-Type"] == "application/problem+json"
    rest = client.post("/engine-rest/condition", json={"variables": {"amount": {"value": 5000}}})
    assert rest.status_code == 400 and "No subscriptions were found" in rest.get_json()["message"]


@pytest.mark.parametrize("body", [{"variables": "many"}, {"variables": {"not a name": 1}}, {"procedure": ""}])
def test_bad_condition_requests_are_422_and_start_nothing(client: Any, engine: IncidentEngine,
                                                          body: dict[str, Any]) -> None:
    deploy(engine, "condition_start")
    response = client.post("/api/v1/conditions", json=body)
    assert response.status_code == 422 and response.headers["Content-Type"] == "application/problem+json"
    assert client.get("/api/v1/incidents").get_json()["items"] == []


def test_engine_rest_condition_answers_the_instances_started(client: Any, engine: IncidentEngine) -> None:
    row = deploy(engine, "condition_start")
    response = client.post("/engine-rest/condition", json={
        "variables": {"amount": {"value": 2000, "type": "Integer"}}, "businessKey": "RF-9",
        "processDefinitionId": row["id"]})
    assert response.status_code == 200, response.get_json()
    [instance] = response.get_json()
    assert instance["businessKey"] == "RF-9" and instance["definitionId"] == row["id"]
    assert client.post("/engine-rest/condition", json={"variables": {"amount": {"value": 1}}}).get_json() == []


def test_variables_set_on_an_incident_move_its_conditional_events(client: Any, engine: IncidentEngine) -> None:
    deploy(engine, "condition_waits")
    incident = start(client, "condition_waits", reference="OUT-1", data={"severity": 1}).get_json()
    url = f"/api/v1/incidents/{incident['id']}/variables"
    escalated = client.post(url, json={"variables": {"severity": 3}})
    assert escalated.status_code == 200, escalated.get_json()
    assert sorted(t["element_id"] for t in escalated.get_json()["open_tasks"]) == ["Task_Diagnose", "Task_Notify"]
    assert escalated.get_json()["data"]["severity"] == 3
    diagnose = open_task(escalated.get_json(), "Task_Diagnose")
    done = client.post(f"/api/v1/tasks/{diagnose['id']}/complete", json={"data": {}})
    assert done.status_code == 200, done.get_json()
    waiting = client.get(f"/api/v1/incidents/{incident['id']}").get_json()
    assert waiting["status"] == "running" and [t["element_id"] for t in waiting["open_tasks"]] == ["Task_Notify"]
    rest = client.post(f"/engine-rest/process-instance/{incident['id']}/variables",
                       json={"modifications": {"line_status": {"value": "up", "type": "String"}}})
    assert rest.status_code == 204
    moved = client.get(f"/api/v1/incidents/{incident['id']}").get_json()
    assert sorted(t["element_id"] for t in moved["open_tasks"]) == ["Task_Confirm", "Task_Notify"]
    trail = client.get(f"/api/v1/incidents/{incident['id']}/audit").get_json()["items"]
    assert [r["data"]["variables"] for r in trail if r["kind"] == "variables_set"] == [
        {"severity": 3}, {"line_status": "up"}]


def test_bad_variables_and_stopped_incidents(client: Any, engine: IncidentEngine) -> None:
    deploy(engine, "condition_waits")
    incident = start(client, "condition_waits", reference="OUT-2").get_json()
    url = f"/api/v1/incidents/{incident['id']}/variables"
    for body in ({"variables": []}, {"variables": {}}, {}, {"variables": {"1x": 1}}):
        response = client.post(url, json=body)
        assert response.status_code == 422 and response.headers["Content-Type"] == "application/problem+json"
    assert client.post("/api/v1/incidents/nope/variables", json={"variables": {"a": 1}}).status_code == 404
    deletions = client.post(f"/engine-rest/process-instance/{incident['id']}/variables", json={"deletions": ["a"]})
    assert deletions.status_code == 400
    client.post(f"/api/v1/incidents/{incident['id']}/cancel", json={"reason": "duplicate"})
    assert client.post(url, json={"variables": {"a": 1}}).status_code == 409
    assert client.get(f"/api/v1/incidents/{incident['id']}").get_json()["data"].get("a") is None


def test_who_may_evaluate_conditions_and_set_variables(client_as: Any, engine: IncidentEngine) -> None:
    deploy(engine, "condition_start")
    for roles in (["agent"], ["supervisor"], ["integration"]):
        assert client_as("a", roles).post("/api/v1/conditions", json={"variables": {"amount": 1}}).status_code == 200
    for roles in (["designer"], ["ops"], ["approver"]):
        assert client_as("o", roles).post("/api/v1/conditions", json={"variables": {"amount": 1}}).status_code == 403
