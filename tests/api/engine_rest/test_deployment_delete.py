"""Deleting a deployment: DELETE /engine-rest/deployment/{id} (Camunda's parameters) and DELETE
/api/v1/deployments/{id}, both onto engine/services/deployment_deletion.py.

The rules (engine/deployments/deletion.py): whole or not at all; only drafts go (a version that entered
review is a governance record); unfinished test incidents need cascade=true and are purged with it;
a version another deployment lists, or a decision an unfinished incident of another deployment resolves,
refuses it; every deletion is recorded (GET /api/v1/deployment-deletions).
"""
from __future__ import annotations

import io
from typing import Any

import pytest

from engine.services import incidents
from tests.support.procedures import activate

from .conftest import REST
from .shapes import is_error
from .test_deployment import DEPLOY, bpmn_and_form


def deploy(client: Any, files: dict[str, bytes], name: str = "d", filtering: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {"deployment-name": name, "enable-duplicate-filtering": str(filtering).lower()}
    data.update({f"resource-{i}": (io.BytesIO(body), filename) for i, (filename, body) in enumerate(files.items())})
    response = client.post(f"{REST}/deployment/create", data=data, content_type="multipart/form-data")
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def callback_files() -> dict[str, bytes]:
    diagram, [form] = bpmn_and_form()
    return {diagram[0]: diagram[1], form[0]: form[1]}


def engine_of(client: Any) -> Any:
    return client.application.extensions["incident_engine"]


def start_test(client: Any, key: str) -> str:
    made = client.post("/api/v1/incidents", json={"procedure": key, "test": True, "data": {}})
    assert made.status_code == 201, made.get_json()
    return made.get_json()["id"]  # type: ignore[no-any-return]


def test_a_draft_deployment_goes_whole_and_is_recorded(client: Any) -> None:
    made = deploy(client, callback_files())
    [definition_id] = made["deployedProcessDefinitions"]
    # pycamunda's deployment.Delete sends all three parameters, false by default
    gone = client.delete(f"{REST}/deployment/{made['id']}?cascade=false&skipCustomListeners=false"
                         "&skipIoMappings=false")
    assert gone.status_code == 204 and gone.data == b""
    is_error(client.get(f"{REST}/deployment/{made['id']}"), 404)
    is_error(client.get(f"{REST}/process-definition/{definition_id}"), 404)
    is_error(client.get(f"{REST}/process-definition/key/callback_flow"), 404)
    assert client.get("/api/v1/forms/callback_form").status_code == 404
    assert client.get(f"/api/v1/deployments/{made['id']}").status_code == 404
    [record] = client.get(f"/api/v1/deployment-deletions?deployment_id={made['id']}").get_json()["items"]
    assert record["deleted_by"] == "admin" and record["cascaded"] is False and record["removed_incidents"] == 0
    assert sorted((r["filename"], r["removed"]) for r in record["resources"]) == [
        ("callback.bpmn", True), ("callback.form", True)]
    # the same files deploy again as version 1: nothing of the deleted deployment is left behind
    again = deploy(client, callback_files())
    assert [d["version"] for d in again["deployedProcessDefinitions"].values()] == [1]
    is_error(client.delete(f"{REST}/deployment/{made['id']}"), 404, "InvalidRequestException")


def test_unfinished_test_incidents_need_cascade_as_in_camunda(client: Any) -> None:
    made = deploy(client, callback_files())
    incident_id = start_test(client, "callback_flow")
    refused = is_error(client.delete(f"{REST}/deployment/{made['id']}"), 500, "ProcessEngineException")
    assert refused["message"].startswith("Deletion of process definition without cascading failed.")
    assert "1 dependening process instances" in refused["message"]
    v1 = client.delete(f"/api/v1/deployments/{made['id']}")
    assert v1.status_code == 409 and v1.mimetype == "application/problem+json"
    assert v1.get_json()["needs_cascade"] is True and v1.get_json()["refusals"][0]["kind"] == "cascade"
    assert client.get(f"/api/v1/incidents/{incident_id}").status_code == 200  # nothing changed
    assert client.delete(f"{REST}/deployment/{made['id']}?cascade=true").status_code == 204
    assert client.get(f"/api/v1/incidents/{incident_id}").status_code == 404
    assert client.get("/api/v1/tasks?test=true").get_json()["items"] == []
    [record] = client.get("/api/v1/deployment-deletions").get_json()["items"]
    assert record["cascaded"] is True and record["removed_incidents"] == 1


def test_finished_test_incidents_go_without_cascade(client: Any) -> None:
    made = deploy(client, callback_files())
    incident_id = start_test(client, "callback_flow")
    incidents.cancel(engine_of(client), incident_id, reason="done trying it")
    response = client.delete(f"/api/v1/deployments/{made['id']}")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["removed_incidents"] == 1 and response.get_json()["cascaded"] is False
    assert client.get(f"/api/v1/incidents/{incident_id}").status_code == 404


def test_a_version_that_entered_review_never_vanishes(client: Any) -> None:
    made = deploy(client, callback_files())
    activate(engine_of(client), "callback_flow")
    refused = is_error(client.delete(f"{REST}/deployment/{made['id']}?cascade=true"), 400, "BadUserRequestException")
    assert "is active and takes live incidents" in refused["message"] and "governance record" in refused["message"]
    v1 = client.delete(f"/api/v1/deployments/{made['id']}?cascade=true")
    assert v1.status_code == 409 and [r["kind"] for r in v1.get_json()["refusals"]] == ["governance"]
    assert client.get(f"{REST}/deployment/{made['id']}").status_code == 200
    assert client.get(f"{REST}/process-definition/key/callback_flow").status_code == 200
    assert client.get("/api/v1/deployment-deletions").get_json()["items"] == []


def test_a_version_listed_by_a_later_deployment_waits_for_that_one(client: Any) -> None:
    first = deploy(client, callback_files(), name="twice")
    second = deploy(client, callback_files(), name="twice", filtering=False)  # lists the same versions unchanged
    assert first["id"] != second["id"]
    refused = is_error(client.delete(f"{REST}/deployment/{first['id']}"), 400, "BadUserRequestException")
    assert second["id"] in refused["message"] and "delete those first" in refused["message"]
    assert client.delete(f"{REST}/deployment/{second['id']}").status_code == 204
    [record] = client.get("/api/v1/deployment-deletions").get_json()["items"]
    assert {r["removed"] for r in record["resources"]} == {False}  # the versions were the first one's
    assert client.get(f"{REST}/process-definition/key/callback_flow").status_code == 200
    assert client.delete(f"{REST}/deployment/{first['id']}").status_code == 204
    is_error(client.get(f"{REST}/process-definition/key/callback_flow"), 404)


def test_a_decision_an_unfinished_incident_resolves_is_kept(client: Any) -> None:
    rules = deploy(client, {"priority.dmn": (DEPLOY / "priority.dmn").read_bytes()}, name="rules")
    deploy(client, {"triage_decision.bpmn": (DEPLOY / "triage_decision.bpmn").read_bytes()}, name="triage")
    incident_id = start_test(client, "triage_decision")
    refused = is_error(client.delete(f"{REST}/deployment/{rules['id']}?cascade=true"), 400,
                       "BadUserRequestException")
    assert "decision 'priority' version 1 is used by 1 unfinished incident(s)" in refused["message"]
    incidents.cancel(engine_of(client), incident_id, reason="no longer needed")
    assert client.delete(f"{REST}/deployment/{rules['id']}").status_code == 204
    assert client.get("/api/v1/decisions/priority").status_code == 404


def test_roles_and_parameters(client: Any, rest_as: Any) -> None:
    made = deploy(client, callback_files())
    is_error(rest_as("alice", ("agent",)).delete(f"{REST}/deployment/{made['id']}"), 403, "AuthorizationException")
    assert rest_as("alice", ("agent",)).delete(f"/api/v1/deployments/{made['id']}").status_code == 403
    bad = is_error(client.delete(f"{REST}/deployment/{made['id']}?cascade=perhaps"), 400)
    assert "cascade" in bad["message"]
    is_error(client.delete(f"{REST}/deployment/{made['id']}?skipIoMappings=yes"), 400)
    assert client.delete("/api/v1/deployments/nope").status_code == 404
    assert client.delete(f"/api/v1/deployments/{made['id']}?cascade=perhaps").status_code == 422
    designer = rest_as("dana", ("designer",))
    assert designer.delete(f"{REST}/deployment/{made['id']}?skipCustomListeners=true&skipIoMappings=true") \
        .status_code == 204


@pytest.mark.parametrize("path", ["/engine-rest/engine/default/deployment/{id}", "/engine-rest/deployment/{id}"])
def test_both_mounts(client: Any, path: str) -> None:
    made = deploy(client, callback_files())
    assert client.delete(path.format(id=made["id"])).status_code == 204
