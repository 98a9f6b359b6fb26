"""POST /api/v1/messages: status codes, problem+json for bad input, roles; on SQLite and PostgreSQL."""
from __future__ import annotations

from typing import Any

import pytest

from engine.services.engine_app import IncidentEngine
from tests.support.events import deploy

from .helpers import complete, open_task, start

URL = "/api/v1/messages"


def waiting(client: Any, reference: str, **data: Any) -> dict[str, Any]:
    incident = start(client, "message_waits", data, reference=reference).get_json()
    return complete(client, open_task(incident, "Task_Review"), {}).get_json()


def test_correlate_start_and_refuse_over_http(client: Any, engine: IncidentEngine) -> None:
    deploy(engine, "message_waits")
    deploy(engine, "message_start")
    incident = waiting(client, "H-1", case_id="C-1")
    delivered = client.post(URL, json={"name": "customerCalledBack", "correlation": {"case_id": "C-1"},
                                       "variables": {"note": "called at 10"}})
    assert delivered.status_code == 200, delivered.get_json()
    [result] = delivered.get_json()["results"]
    assert result == {**result, "element_id": "Catch_Callback", "started": False}
    assert result["incident"]["id"] == incident["id"] and result["incident"]["data"]["note"] == "called at 10"
    started = client.post(URL, json={"name": "outageReported", "reference": "T-1", "variables": {"site": "Leeds"}})
    assert started.status_code == 201
    assert started.get_json()["results"][0]["incident"]["open_tasks"][0]["element_id"] == "Task_Assess"
    missing = client.post(URL, json={"name": "customerCalledBack", "reference": "H-1"})
    assert missing.status_code == 404 and missing.headers["Content-Type"] == "application/problem+json"
    assert "reference 'H-1'" in missing.get_json()["detail"]
    waiting(client, "H-2")
    waiting(client, "H-3")
    several = client.post(URL, json={"name": "customerCalledBack"})
    assert several.status_code == 409 and len(several.get_json()["incidents"]) == 2
    every = client.post(URL, json={"name": "customerCalledBack", "all": True})
    assert every.status_code == 200 and len(every.get_json()["results"]) == 2


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "x" * 256}, "name"),
    ({"name": ""}, "name"),
    ({}, "name"),
    ({"name": "customerCalledBack", "variables": ["not", "an", "object"]}, "variables"),
    ({"name": "customerCalledBack", "variables": {"1bad": True}}, "variables.1bad"),
    ({"name": "customerCalledBack", "correlation": "C-1"}, "correlation"),
    ({"name": "customerCalledBack", "correlation": {"case_id": ["C-1"]}}, "correlation.case_id"),
    ({"name": "customerCalledBack", "correlation": {"case_id": None}}, "correlation.case_id"),
    ({"name": "customerCalledBack", "reference": "r" * 256}, "reference"),
    ({"name": "noSuchMessage"}, "name"),
])
def test_bad_messages_are_422_and_change_nothing(client: Any, engine: IncidentEngine, body: dict[str, Any],
                                                 field: str) -> None:
    deploy(engine, "message_waits")
    incident = waiting(client, "BAD", case_id="C-1")
    response = client.post(URL, json=body)
    assert response.status_code == 422, response.get_json()
    assert response.headers["Content-Type"] == "application/problem+json"
    assert field in {e.get("field") for e in response.get_json()["errors"]}
    after = client.get(f"/api/v1/incidents/{incident['id']}").get_json()
    assert after["updated_at"] == incident["updated_at"] and after["data"] == incident["data"]


def test_who_may_send_messages(client: Any, client_as: Any, engine: IncidentEngine) -> None:
    """Integrations reach every incident; agents and supervisors those they take part in (the agent here
    did the review; a supervisor sees the ended tasks of their groups)."""
    deploy(engine, "message_waits")
    for n, roles in enumerate((["integration"], ["agent"], ["supervisor"])):
        sender = client_as(f"sender-{n}", roles, ["service-desk"])
        incident = start(client, "message_waits", reference=f"W{n}").get_json()
        worker = client if roles == ["integration"] else sender
        assert complete(worker, open_task(incident, "Task_Review"), {}).status_code == 200
        sent = sender.post(URL, json={"name": "customerCalledBack", "reference": f"W{n}"})
        assert sent.status_code == 200, (roles, sent.get_json())
    for roles in (["designer"], ["ops"], ["approver"], []):
        assert client_as("other", roles).post(URL, json={"name": "customerCalledBack"}).status_code == 403


def test_an_agent_reaches_only_incidents_they_take_part_in(client: Any, client_as: Any,
                                                           engine: IncidentEngine) -> None:
    deploy(engine, "message_waits")
    waiting(client, "V-1")
    outsider = client_as("mallory", ["agent"], ["other-team"])
    assert outsider.post(URL, json={"name": "customerCalledBack", "reference": "V-1"}).status_code == 404
    integration = client_as("crm", ["integration"])
    assert integration.post(URL, json={"name": "customerCalledBack", "reference": "V-1"}).status_code == 200


def test_incident_id_and_starts_only_narrow_a_correlation(client: Any, engine: IncidentEngine) -> None:
    deploy(engine, "message_waits")
    deploy(engine, "message_start")
    one, two = waiting(client, "N-1"), waiting(client, "N-2")
    narrowed = client.post(URL, json={"name": "customerCalledBack", "incident_id": two["id"]})
    assert narrowed.status_code == 200, narrowed.get_json()
    assert [r["incident"]["id"] for r in narrowed.get_json()["results"]] == [two["id"]]
    gone = client.post(URL, json={"name": "customerCalledBack", "incident_id": two["id"]})
    assert gone.status_code == 404  # it no longer waits; one's wait is not taken instead
    assert client.post(URL, json={"name": "customerCalledBack", "incident_id": one["id"]}).status_code == 200
    started = client.post(URL, json={"name": "outageReported", "starts_only": True, "reference": "N-3"})
    assert started.status_code == 201 and started.get_json()["results"][0]["started"] is True
    both = client.post(URL, json={"name": "outageReported", "starts_only": True, "incident_id": one["id"]})
    assert both.status_code == 422
