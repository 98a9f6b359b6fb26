"""/message and /signal: Camunda's bodies and status codes over the engine's messages and signals services."""
from __future__ import annotations

from typing import Any

import pytest

from engine.services.engine_app import IncidentEngine
from tests.api.helpers import complete, open_task, start
from tests.support.events import deploy

from .conftest import REST
from .shapes import INSTANCE, has_keys, is_error


def waiting(client: Any, reference: str, **data: Any) -> dict[str, Any]:
    """An incident of message_waits waiting at Catch_Callback for customerCalledBack."""
    incident = start(client, "message_waits", data, reference=reference).get_json()
    return complete(client, open_task(incident, "Task_Review"), {}).get_json()  # type: ignore[no-any-return]


def incident(client: Any, incident_id: str) -> dict[str, Any]:
    return client.get(f"/api/v1/incidents/{incident_id}").get_json()  # type: ignore[no-any-return]


def test_correlate_without_result_is_204_and_delivers(client: Any, engine: IncidentEngine) -> None:
    deploy(engine, "message_waits")
    first = waiting(client, "M-1", case_id="C-1")
    response = client.post(f"{REST}/message", json={
        "messageName": "customerCalledBack", "businessKey": "M-1", "all": False, "resultEnabled": False,
        "correlationKeys": {"case_id": {"value": "C-1", "type": "String"}},
        "processVariables": {"note": {"value": "called at 10", "type": None, "valueInfo": None}},
        "localCorrelationKeys": {}, "processVariablesLocal": {}, "withoutTenantId": True})
    assert response.status_code == 204 and response.data == b""
    after = incident(client, first["id"])
    assert after["data"]["note"] == "called at 10"
    assert [t["element_id"] for t in after["open_tasks"]] == []  # now at the receive task, not a human task
    trail = client.get(f"/api/v1/incidents/{first['id']}/audit").get_json()["items"]
    assert [r["data"]["message"] for r in trail if r["kind"] == "message_correlated"] == ["customerCalledBack"]


def test_result_enabled_lists_executions_and_started_instances(client: Any, engine: IncidentEngine) -> None:
    deploy(engine, "message_waits")
    deploy(engine, "message_start")
    first = waiting(client, "M-2", case_id="C-2")
    delivered = client.post(f"{REST}/message", json={
        "messageName": "customerCalledBack", "processInstanceId": first["id"], "resultEnabled": True,
        "variablesInResultEnabled": True, "processVariables": {"attempts": {"value": 2, "type": "Integer"}}})
    assert delivered.status_code == 200, delivered.get_json()
    [result] = delivered.get_json()
    assert result["resultType"] == "Execution" and result["processInstance"] is None
    assert result["execution"] == {"id": first["id"], "processInstanceId": first["id"], "ended": False,
                                   "tenantId": None}
    assert result["variables"]["attempts"] == {"value": 2, "type": "Integer", "valueInfo": {}}
    started = client.post(f"{REST}/message", json={"messageName": "outageReported", "businessKey": "T-9",
                                                   "resultEnabled": True})
    [result] = started.get_json()
    assert result["resultType"] == "ProcessDefinition" and result["execution"] is None and "variables" not in result
    has_keys(result["processInstance"], INSTANCE)
    assert result["processInstance"]["businessKey"] == "T-9"
    assert incident(client, result["processInstance"]["id"])["procedure"] == "message_start"


def test_process_instance_id_narrows_and_all_reaches_every_wait(client: Any, engine: IncidentEngine) -> None:
    deploy(engine, "message_waits")
    one, two = waiting(client, "M-3"), waiting(client, "M-4")
    several = is_error(client.post(f"{REST}/message", json={"messageName": "customerCalledBack"}), 400, "RestException")
    assert several["message"].startswith("Cannot correlate message 'customerCalledBack'")
    trail = client.get(f"/api/v1/incidents/{one['id']}/audit").get_json()["items"]
    assert not [r for r in trail if r["kind"] == "message_correlated"]  # nothing was delivered
    for item in (one, two):
        assert client.post(f"{REST}/message", json={"messageName": "customerCalledBack", "processInstanceId":
                                                     item["id"], "resultEnabled": True}).status_code == 200
    again = is_error(client.post(f"{REST}/message", json={"messageName": "customerCalledBack",
                                                          "processInstanceId": one["id"]}), 400, "RestException")
    assert "No process definition or execution matches the parameters" in again["message"]
    three, four = waiting(client, "M-5"), waiting(client, "M-6")
    every = client.post(f"{REST}/message", json={"messageName": "customerCalledBack", "all": True,
                                                 "resultEnabled": True})
    assert sorted(r["execution"]["id"] for r in every.get_json()) == sorted([three["id"], four["id"]])


@pytest.mark.parametrize(("body", "type_", "words"), [
    ({}, "InvalidRequestException", "No message name supplied"),
    ({"messageName": "noSuchMessage"}, "RestException", "no procedure declares a message named"),
    ({"messageName": "customerCalledBack", "businessKey": "nobody"}, "RestException", "reference 'nobody'"),
    ({"messageName": "customerCalledBack", "tenantId": "t1"}, "InvalidRequestException", "multi-tenancy"),
    ({"messageName": "customerCalledBack", "localCorrelationKeys": {"a": {"value": 1}}}, "InvalidRequestException",
     "localCorrelationKeys"),
    ({"messageName": "customerCalledBack", "processVariablesLocal": {"a": {"value": 1}}},
     "InvalidRequestException", "processVariablesLocal"),
    ({"messageName": "customerCalledBack", "correlationKeys": {"case_id": {"value": "x", "type": "Bytes"}}},
     "InvalidRequestException", "Bytes"),
    ({"messageName": "customerCalledBack", "processVariables": {"n": {"value": "x", "type": "Integer"}}},
     "InvalidRequestException", "Cannot convert value"),
    ({"messageName": "customerCalledBack", "startMessagesOnly": True, "processInstanceId": "x"},
     "InvalidRequestException", "startMessagesOnly"),
    ({"messageName": "customerCalledBack", "all": "perhaps"}, "InvalidRequestException", "all"),
])
def test_bad_or_unmatched_messages_are_400_and_change_nothing(client: Any, engine: IncidentEngine,
                                                              body: dict[str, Any], type_: str, words: str) -> None:
    deploy(engine, "message_waits")
    waiting_one = waiting(client, "M-7", case_id="C-7")
    before = client.get(f"/api/v1/incidents/{waiting_one['id']}/audit").get_json()["items"]
    found = is_error(client.post(f"{REST}/message", json=body), 400, type_)
    assert words in found["message"]
    assert client.get(f"/api/v1/incidents/{waiting_one['id']}/audit").get_json()["items"] == before


def test_start_messages_only_ignores_waits(client: Any, engine: IncidentEngine) -> None:
    deploy(engine, "message_start")
    response = client.post(f"{REST}/message", json={"messageName": "outageReported", "startMessagesOnly": True,
                                                    "resultEnabled": True})
    assert [r["resultType"] for r in response.get_json()] == ["ProcessDefinition"]


def test_signal_is_204_and_reaches_every_waiting_incident(client: Any, engine: IncidentEngine) -> None:
    deploy(engine, "signal_waits")
    cases = [start(client, "signal_waits", {}, reference=f"S-{n}").get_json() for n in range(3)]
    response = client.post(f"{REST}/signal", json={"name": "majorIncident",
                                                   "variables": {"outage": {"value": "payments", "type": "String"}},
                                                   "withoutTenantId": True})
    assert response.status_code == 204 and response.data == b""
    for case in cases:
        after = incident(client, case["id"])
        assert after["data"]["outage"] == "payments"
        assert sorted(t["element_id"] for t in after["open_tasks"]) == ["Task_Handle", "Task_TellCustomer"]


@pytest.mark.parametrize(("body", "type_", "words"), [
    ({}, "InvalidRequestException", "No signal name given"),
    ({"name": "noSuchSignal"}, "RestException", "no procedure declares a signal named"),
    ({"name": "majorIncident", "executionId": "abc"}, "InvalidRequestException", "executionId"),
    ({"name": "majorIncident", "tenantId": "t"}, "InvalidRequestException", "multi-tenancy"),
    ({"name": "majorIncident", "variables": {"x": {"value": "y", "type": "File"}}}, "InvalidRequestException",
     "File"),
    ({"name": 7}, "InvalidRequestException", "name"),
])
def test_bad_signals_are_400_and_change_nothing(client: Any, engine: IncidentEngine, body: dict[str, Any],
                                                type_: str, words: str) -> None:
    deploy(engine, "signal_waits")
    case = start(client, "signal_waits", {}, reference="S-9").get_json()
    found = is_error(client.post(f"{REST}/signal", json=body), 400, type_)
    assert words in found["message"]
    assert [t["element_id"] for t in incident(client, case["id"])["open_tasks"]] == ["Task_Handle"]


def test_a_worker_without_the_permission_gets_camundas_403(rest_as: Any, engine: IncidentEngine) -> None:
    deploy(engine, "signal_waits")
    agent = rest_as("ann", ("agent",), ("service-desk",))
    is_error(agent.post(f"{REST}/signal", json={"name": "majorIncident"}), 403, "AuthorizationException")
    designer = rest_as("dana", ("designer",))
    is_error(designer.post(f"{REST}/message", json={"messageName": "x"}), 403, "AuthorizationException")
