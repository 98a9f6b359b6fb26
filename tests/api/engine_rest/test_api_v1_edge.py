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
