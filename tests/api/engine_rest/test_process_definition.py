"""/process-definition: procedure versions as ProcessDefinitionDto, their XML, starting incidents."""
from __future__ import annotations

from typing import Any

from .conftest import REST, start_major
from .shapes import DEFINITION, INSTANCE, has_keys, is_error


def test_list_filters_and_count(client: Any) -> None:
    found = client.get(f"{REST}/process-definition?latestVersion=true").get_json()
    assert sorted(d["key"] for d in found) == ["customer_complaint", "data_breach",
                                                        "data_subject_request", "major_incident"]
    for item in found:
        has_keys(item, DEFINITION)
        assert item["version"] == 1 and item["suspended"] is False and item["resource"] == f"{item['key']}.bpmn"
    assert [d["key"] for d in client.get(f"{REST}/process-definition?key=data_breach").get_json()] == ["data_breach"]
    assert client.get(f"{REST}/process-definition?version=2").get_json() == []
    named = client.get(f"{REST}/process-definition", query_string={"name": "Major incident"}).get_json()
    assert [d["key"] for d in named] == ["major_incident"]
    assert client.get(f"{REST}/process-definition/count?latestVersion=true").get_json() == {"count": 4}
    assert len(client.get(f"{REST}/process-definition?firstResult=1&maxResults=1").get_json()) == 1


def test_get_by_id_and_key_and_xml(client: Any) -> None:
    by_key = client.get(f"{REST}/process-definition/key/major_incident").get_json()
    has_keys(by_key, DEFINITION)
    assert client.get(f"{REST}/process-definition/{by_key['id']}").get_json() == by_key
    xml = client.get(f"{REST}/process-definition/{by_key['id']}/xml").get_json()
    assert xml["id"] == by_key["id"] and 'id="major_incident"' in xml["bpmn20Xml"]
    assert client.get(f"{REST}/process-definition/key/major_incident/xml").get_json() == xml
    is_error(client.get(f"{REST}/process-definition/key/nope"), 404, "InvalidRequestException")
    is_error(client.get(f"{REST}/process-definition/nope"), 404)


def test_start_by_key_with_untyped_and_typed_variables(client: Any) -> None:
    instance = start_major(client, "CRM-9", withVariablesInReturn=True)
    has_keys(instance, INSTANCE)
    assert instance["businessKey"] == "CRM-9" and instance["ended"] is False
    assert instance["links"][0]["href"].endswith(f"/engine-rest/process-instance/{instance['id']}")
    assert instance["variables"]["caller_id"] == {"value": "C-77", "type": "String", "valueInfo": {}}
    definition = client.get(f"{REST}/process-definition/key/major_incident").get_json()
    assert instance["definitionId"] == definition["id"]


def test_start_by_id_as_camunda_modeler_does(client: Any) -> None:
    definition = client.get(f"{REST}/process-definition/key/data_breach").get_json()
    response = client.post(f"{REST}/process-definition/{definition['id']}/start", json={
        "businessKey": None, "variables": {"aware_at": {"value": "2026-01-05T09:00:00.000+0000", "type": "Date"},
                                           "summary": {"value": "laptop lost"}, "caller_id": {"value": "C-1"}}})
    assert response.status_code == 200, response.get_data(as_text=True)
    variables = client.get(f"{REST}/process-instance/{response.get_json()['id']}/variables").get_json()
    assert variables["aware_at"]["value"] == "2026-01-05T09:00:00+00:00"


def test_start_refusals(client: Any) -> None:
    start = f"{REST}/process-definition/key/major_incident/start"
    is_error(client.post(start, json={"variables": {"x": {"value": "a", "type": "Integer"}}}), 400)
    body = is_error(client.post(start, json={"variables": {"x": {"value": 1, "type": "Fancy"}}}), 400)
    assert "Unsupported value type" in body["message"]
    body = is_error(client.post(start, json={"variables": {"priority": {"value": "P1"}}}), 400)
    assert "summary" in body["message"]  # the procedure's declared start data
    is_error(client.post(start, json={"startInstructions": [{"type": "startBeforeActivity"}]}), 400)
    is_error(client.post(f"{REST}/process-definition/key/major_incident/tenant-id/t1/start", json={}), 400)
    is_error(client.post(f"{REST}/process-definition/key/none/start", json={}), 404)
