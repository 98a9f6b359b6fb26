"""POST /api/v1/signals and POST /api/v1/incidents/{id}/trigger over HTTP, on SQLite and PostgreSQL."""
from __future__ import annotations

from typing import Any

import pytest

from engine.services.engine_app import IncidentEngine
from tests.support.events import deploy

from .helpers import open_task, start


def test_broadcast_over_http(client: Any, engine: IncidentEngine) -> None:
    deploy(engine, "signal_waits")
    deploy(engine, "signal_start")
    waiting = [start(client, "signal_waits", reference=f"H{n}").get_json() for n in range(3)]
    response = client.post("/api/v1/signals", json={"name": "majorIncident", "variables": {"outage": "voice"}})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["signal"], body["reached"], body["started"]) == ("majorIncident", 3, 1)
    assert body["batches"] >= 1 and body["batch_size"] == engine.settings.signal_batch
    for incident in waiting:
        now = client.get(f"/api/v1/incidents/{incident['id']}").get_json()
        assert open_task(now, "Task_TellCustomer")["element_id"] == "Task_TellCustomer"


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "x" * 256}, "name"),
    ({}, "name"),
    ({"name": "majorIncident", "variables": "loud"}, "variables"),
    ({"name": "majorIncident", "variables": {"not a name": 1}}, "variables.not a name"),
    ({"name": "majorIncidnet"}, "name"),
])
def test_bad_signals_are_422_and_reach_nobody(client: Any, engine: IncidentEngine, body: dict[str, Any],
                                              field: str) -> None:
    deploy(engine, "signal_waits")
    incident = start(client, "signal_waits", reference="B1").get_json()
    response = client.post("/api/v1/signals", json=body)
    assert response.status_code == 422 and response.headers["Content-Type"] == "application/problem+json"
    assert field in {e.get("field") for e in response.get_json()["errors"]}
    assert client.get(f"/api/v1/incidents/{incident['id']}").get_json()["updated_at"] == incident["updated_at"]


def test_who_may_broadcast(client_as: Any, engine: IncidentEngine) -> None:
    deploy(engine, "signal_waits")
    for roles in (["supervisor"], ["integration"]):
        assert client_as("s", roles).post("/api/v1/signals", json={"name": "majorIncident"}).status_code == 200
    for roles in (["agent"], ["designer"], ["ops"]):
        assert client_as("o", roles).post("/api/v1/signals", json={"name": "majorIncident"}).status_code == 403


def test_a_wait_state_is_moved_on_by_its_trigger(client: Any, engine: IncidentEngine) -> None:
    deploy(engine, "wait_state")
    incident = start(client, "wait_state", reference="V1").get_json()
    assert incident["open_tasks"] == [] and incident["status"] == "running"
    url = f"/api/v1/incidents/{incident['id']}/trigger"
    wrong = client.post(url, json={"element_id": "Task_Confirm"})
    assert wrong.status_code == 409 and wrong.headers["Content-Type"] == "application/problem+json"
    moved = client.post(url, json={"element_id": "Wait_Visit", "variables": {"engineer": "Sam"}})
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["data"]["engineer"] == "Sam"
    assert [t["element_id"] for t in moved.get_json()["open_tasks"]] == ["Task_Confirm"]
    assert client.post(url, json={"element_id": "Wait_Visit"}).status_code == 409
    assert client.post("/api/v1/incidents/nope/trigger", json={"element_id": "Wait_Visit"}).status_code == 404
    trail = client.get(f"/api/v1/incidents/{incident['id']}/audit").get_json()["items"]
    assert [r["element_id"] for r in trail if r["kind"] == "wait_triggered"] == ["Wait_Visit"]
