"""/process-instance: running incidents, variable filters, variables, delete (= cancel)."""
from __future__ import annotations

from typing import Any

from .conftest import REST, start_major
from .shapes import INSTANCE, has_keys, is_error


def test_list_and_filters(client: Any) -> None:
    first, second = start_major(client, "CRM-1"), start_major(client, "CRM-2")
    every = client.get(f"{REST}/process-instance?processDefinitionKey=major_incident").get_json()
    assert [i["id"] for i in every] == [first["id"], second["id"]]
    for item in every:
        has_keys(item, INSTANCE)
    by_key = client.get(f"{REST}/process-instance?businessKey=CRM-2").get_json()
    assert [i["id"] for i in by_key] == [second["id"]]
    # `variables` conditions, comma-separated or repeated; names may contain underscores
    assert len(client.get(f"{REST}/process-instance?variables=caller_id_eq_C-77,priority_eq_P1").get_json()) == 2
    assert len(client.get(f"{REST}/process-instance?variables=caller_id_eq_C-77&variables=priority_neq_P1")
               .get_json()) == 0
    assert len(client.get(f"{REST}/process-instance?variables=summary_like_%25line%25").get_json()) == 2
    query = {"variables": [{"name": "caller_id", "operator": "eq", "value": "C-77"}], "businessKey": "CRM-1"}
    assert [i["id"] for i in client.post(f"{REST}/process-instance", json=query).get_json()] == [first["id"]]
    assert client.get(f"{REST}/process-instance/count?processDefinitionKey=major_incident").get_json() == {"count": 2}
    assert len(client.get(f"{REST}/process-instance?maxResults=1&firstResult=1").get_json()) == 1
    is_error(client.get(f"{REST}/process-instance?variables=nonsense"), 400)


def test_get_variables_and_delete(client: Any) -> None:
    instance = start_major(client)
    got = client.get(f"{REST}/process-instance/{instance['id']}").get_json()
    has_keys(got, INSTANCE)
    assert got["id"] == instance["id"] and got["businessKey"] == "CRM-1"
    variables = client.get(f"{REST}/process-instance/{instance['id']}/variables").get_json()
    assert variables["priority"] == {"value": "P1", "type": "String", "valueInfo": {}}
    one = client.get(f"{REST}/process-instance/{instance['id']}/variables/summary").get_json()
    assert one == {"value": "Payments line down", "type": "String", "valueInfo": {}}
    is_error(client.get(f"{REST}/process-instance/{instance['id']}/variables/nope"), 404)
    response = client.delete(f"{REST}/process-instance/{instance['id']}?skipCustomListeners=false"
                             "&skipIoMappings=false&skipSubprocesses=false&failIfNotExists=true")
    assert response.status_code == 204 and response.data == b""
    is_error(client.get(f"{REST}/process-instance/{instance['id']}"), 404, "InvalidRequestException")
    assert client.get(f"{REST}/process-instance?businessKey=CRM-1").get_json() == []
    is_error(client.delete(f"{REST}/process-instance/{instance['id']}"), 404)
    assert client.delete(f"{REST}/process-instance/{instance['id']}?failIfNotExists=false").status_code == 204
    trail = client.get(f"/api/v1/incidents/{instance['id']}/audit").get_json()["items"]
    assert [r["data"]["reason"] for r in trail if r["kind"] == "incident_cancelled"] == [
        "deleted through the Camunda REST API"]


def test_agents_see_only_their_incidents(client: Any, rest_as: Any) -> None:
    instance = start_major(client)
    outsider = rest_as("bob", ("agent",), ("complaints",))
    assert outsider.get(f"{REST}/process-instance").get_json() == []
    is_error(outsider.get(f"{REST}/process-instance/{instance['id']}"), 404)
    desk = rest_as("carol", ("agent",), ("service-desk",))
    assert [i["id"] for i in desk.get(f"{REST}/process-instance").get_json()] == [instance["id"]]
    is_error(desk.delete(f"{REST}/process-instance/{instance['id']}"), 403, "AuthorizationException")
