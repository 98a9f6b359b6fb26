"""POST /api/v1/data-subjects/erasure, GET /api/v1/data-subjects/{id}/export and the legal hold over HTTP:
the dpo role alone (not even admin), bad identifiers as 422, unknown subjects as 200 with nothing erased."""
from __future__ import annotations

from typing import Any

import pytest

from engine.services.engine_app import IncidentEngine
from tests.support.incidents import deploy_bundled

from .helpers import complete, open_task, start

EMAIL = "carol.caller@example.org"
ERASE = "/api/v1/data-subjects/erasure"


@pytest.fixture
def dpo(client_as: Any) -> Any:
    return client_as("dee-dpo", ["dpo"])


def _complaint(client: Any) -> dict[str, Any]:
    incident = start(client, "customer_complaint", {"received_at": "2026-01-05T09:00:00Z", "customer_name": "Carol C",
                                                    "channel": "phone"}).get_json()
    task = open_task(incident, "Task_AcknowledgeComplaint")
    done = complete(client, task, {"acknowledged": True, "customer_email": EMAIL, "contact_verified": True})
    assert done.status_code == 200, done.get_json()
    return done.get_json()


def test_only_the_dpo_may_erase_or_export(engine: IncidentEngine, client: Any, client_as: Any, dpo: Any) -> None:
    body = {"subject_id": EMAIL, "legal_basis": "Art. 17(1)(a)"}
    for roles in (["admin"], ["supervisor"], ["ops"], ["agent"], []):
        caller = client_as("someone", roles, ["service-desk"])
        assert caller.post(ERASE, json=body).status_code == 403, roles
        assert caller.get(f"/api/v1/data-subjects/{EMAIL}/export").status_code == 403, roles
    assert dpo.post(ERASE, json=body).status_code == 200
    assert dpo.get(f"/api/v1/data-subjects/{EMAIL}/export").status_code == 200


def test_bad_identifiers_are_422_and_an_unknown_subject_is_200_with_nothing_erased(dpo: Any) -> None:
    for bad in (7, "", "x" * 256, None, ["a"]):
        answer = dpo.post(ERASE, json={"subject_id": bad, "legal_basis": "Art. 17"})
        assert answer.status_code == 422, (bad, answer.get_json())
        assert answer.headers["Content-Type"] == "application/problem+json"
    assert dpo.post(ERASE, json={"subject_id": "   ", "legal_basis": "Art. 17"}).status_code == 422
    assert dpo.post(ERASE, json={"subject_id": EMAIL}).status_code == 422  # the legal basis is required
    assert dpo.get(f"/api/v1/data-subjects/{'y' * 256}/export").status_code == 422
    unknown = dpo.post(ERASE, json={"subject_id": "nobody@example.org", "legal_basis": "Art. 17"})
    assert unknown.status_code == 200
    assert unknown.get_json()["nothing_erased"] is True and unknown.get_json()["erased"] == []


def test_erasure_export_and_legal_hold_over_http(engine: IncidentEngine, client: Any, client_as: Any,
                                                 dpo: Any) -> None:
    deploy_bundled(engine)
    incident = _complaint(client)
    exported = dpo.get(f"/api/v1/data-subjects/{EMAIL}/export").get_json()
    assert [i["incident_id"] for i in exported["incidents"]] == [incident["id"]]
    supervisor = client_as("sam", ["supervisor"], ["service-desk", "complaints"])
    held = supervisor.put(f"/api/v1/incidents/{incident['id']}/legal-hold", json={"reason": "ombudsman case"})
    assert held.status_code == 200 and held.get_json()["held"] is True
    assert dpo.put(f"/api/v1/incidents/{incident['id']}/legal-hold", json={"reason": "x"}).status_code == 403
    body = {"subject_id": EMAIL, "legal_basis": "Art. 17(1)(a)"}
    answer = dpo.post(ERASE, json=body).get_json()
    assert answer["nothing_erased"] and answer["held"][0]["incident_id"] == incident["id"]
    assert supervisor.delete(f"/api/v1/incidents/{incident['id']}/legal-hold").get_json()["held"] is False
    answer = dpo.post(ERASE, json=body).get_json()
    assert [e["incident_id"] for e in answer["erased"]] == [incident["id"]] and answer["values_erased"] == 2
    again = dpo.post(ERASE, json=body).get_json()
    assert again["nothing_erased"] and again["already_erased"] == [incident["id"]]
    shown = client.get(f"/api/v1/incidents/{incident['id']}").get_json()
    assert shown["data"]["customer_email"] == "[erased]"
    trail = client.get(f"/api/v1/incidents/{incident['id']}/audit").get_json()["items"]
    kinds = [r["kind"] for r in trail]
    assert kinds.count("personal_data_erased") == 1 and "legal_hold_set" in kinds and "legal_hold_released" in kinds
    assert client.get(f"/api/v1/incidents/{incident['id']}/audit/verify").get_json()["valid"] is True
