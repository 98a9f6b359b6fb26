"""/history/task, /history/activity-instance (from the audit trail) and /incident (failed activities)."""
from __future__ import annotations

from typing import Any

from .conftest import REST, start_major
from .shapes import DATE, HISTORIC_ACTIVITY, HISTORIC_TASK, INCIDENT, has_keys, is_error
from .test_task import LOG


def test_task_and_activity_history(client: Any) -> None:
    instance = start_major(client)
    task = client.get(f"{REST}/task?processInstanceId={instance['id']}").get_json()[0]
    client.post(f"{REST}/task/{task['id']}/complete", json={"variables": LOG})
    history = client.get(f"{REST}/history/task?processInstanceId={instance['id']}").get_json()
    assert [h["taskDefinitionKey"] for h in history] == ["Task_LogIncident", "Task_Triage"]
    for item in history:
        has_keys(item, HISTORIC_TASK)
    done, open_ = history
    assert done["deleteReason"] == "completed" and DATE.match(done["endTime"]) and done["duration"] >= 0
    assert open_["endTime"] is None and open_["deleteReason"] is None
    activities = client.get(f"{REST}/history/activity-instance?processInstanceId={instance['id']}").get_json()
    for item in activities:
        has_keys(item, HISTORIC_ACTIVITY)
    by_id = {a["activityId"]: a for a in activities}
    assert by_id["StartEvent_IncidentReported"]["activityType"] == "startEvent"
    assert by_id["Task_LogIncident"]["endTime"] is not None and by_id["Task_LogIncident"]["taskId"] == task["id"]
    assert by_id["Task_Triage"]["endTime"] is None
    is_error(client.get(f"{REST}/history/task"), 400)
    is_error(client.get(f"{REST}/history/activity-instance?processInstanceId=nope"), 404)


def test_a_failed_incident_is_a_camunda_incident(client: Any, engine: Any) -> None:
    from engine.db import incident_rows

    instance = start_major(client)
    with engine.uow() as uow:
        incident_rows.update(uow.conn, instance["id"], 2, {"status": "error", "error": "bad expression at X"})
        uow.commit()
    found = client.get(f"{REST}/incident?processInstanceId={instance['id']}").get_json()
    assert len(found) == 1
    has_keys(found[0], INCIDENT)
    assert found[0]["incidentType"] == "failedJob" and found[0]["incidentMessage"] == "bad expression at X"
    assert client.get(f"{REST}/incident/count").get_json() == {"count": 1}
    assert client.get(f"{REST}/incident?incidentType=failedExternalTask").get_json() == []
