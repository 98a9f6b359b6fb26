"""The use cases the dialect added are on /api/v1 too: task filters, an incident's activities, failures."""
from __future__ import annotations

from typing import Any

from .conftest import start_major


def test_api_v1_task_filters(client: Any) -> None:
    one, _two = start_major(client, "CRM-1"), start_major(client, "CRM-2")
    items = client.get("/api/v1/tasks?reference=CRM-1").get_json()["items"]
    assert [t["incident_id"] for t in items] == [one["id"]]
    assert len(client.get("/api/v1/tasks?procedure=major_incident&element_id=Task_LogIncident")
               .get_json()["items"]) == 2
    assert client.get("/api/v1/tasks?candidate_group=complaints").get_json()["items"] == []
    assert len(client.get("/api/v1/tasks?candidate_group=complaints&candidate_group=service-desk")
               .get_json()["items"]) == 2
    assert client.get("/api/v1/tasks?due_after=2026-01-01T00:00:00Z").get_json()["items"] == []


def test_api_v1_activities_and_failures(client: Any, engine: Any) -> None:
    from engine.db import incident_rows

    instance = start_major(client)
    activities = client.get(f"/api/v1/incidents/{instance['id']}/activities").get_json()["items"]
    assert [a["element_id"] for a in activities][:2] == ["StartEvent_IncidentReported", "Task_LogIncident"]
    assert activities[1]["ended_at"] is None and activities[0]["ended_at"] is not None
    with engine.uow() as uow:
        incident_rows.update(uow.conn, instance["id"], 2, {"status": "error", "error": "broken"})
        uow.commit()
    failures = client.get("/api/v1/failures").get_json()["items"]
    assert [(f["kind"], f["incident_id"], f["message"]) for f in failures] == [
        ("failed_incident", instance["id"], "broken")]
    assert client.get("/api/v1/failures?kind=failed_external_task").get_json()["items"] == []


def test_api_v1_external_tasks(client: Any, rest_as: Any) -> None:
    from .test_external_task import CHARGE

    assert client.post("/api/v1/procedures", data=CHARGE.read_bytes(), content_type="application/xml").status_code == 201
    client.post("/engine-rest/process-definition/key/external_charge/start", json={"variables": {}})
    worker = rest_as("robot", ("integration",), ("charge-card",))
    body = {"worker_id": "w1", "topics": [{"name": "charge-card", "lock_ms": 60000}]}
    [task] = worker.post("/api/v1/external-tasks/fetch-and-lock", json=body).get_json()["items"]
    assert task["topic"] == "charge-card" and task["properties"] == {"provider": "acme"}
    assert worker.post("/api/v1/external-tasks/fetch-and-lock", json={**body, "wait_ms": 200}).get_json() == {"items": []}
    refused = worker.post(f"/api/v1/external-tasks/{task['id']}/complete", json={"worker_id": "w2"})
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert worker.post(f"/api/v1/external-tasks/{task['id']}/extend-lock",
                       json={"worker_id": "w1", "lock_ms": 1000}).status_code == 204
    assert worker.post(f"/api/v1/external-tasks/{task['id']}/failure",
                       json={"worker_id": "w1", "retries": 0, "message": "down"}).status_code == 204
    assert client.get("/api/v1/failures?kind=failed_external_task").get_json()["items"][0]["message"] == "down"
    assert client.put(f"/api/v1/external-tasks/{task['id']}/retries", json={"retries": 1}).status_code == 204
    [again] = worker.post("/api/v1/external-tasks/fetch-and-lock", json=body).get_json()["items"]
    assert worker.post(f"/api/v1/external-tasks/{again['id']}/unlock").status_code == 204
    [again] = worker.post("/api/v1/external-tasks/fetch-and-lock", json=body).get_json()["items"]
    assert worker.post(f"/api/v1/external-tasks/{again['id']}/bpmn-error",
                       json={"worker_id": "w1", "code": "NOPE"}).status_code == 422
    assert worker.post(f"/api/v1/external-tasks/{again['id']}/complete",
                       json={"worker_id": "w1", "data": {"charged": True}}).status_code == 204
    assert client.get("/api/v1/external-tasks").get_json()["items"] == []
