"""/deployment: Camunda Modeler's Deploy replayed byte for byte, and what pycamunda and others send.

Camunda Modeler cannot run here. Its requests are rebuilt from its source (client/src/plugins/
camunda-plugin/shared/CamundaAPI.js, see ../shared/notes/camunda-compat.md §1a): the probe
`GET /deployment?maxResults=0` without credentials, `GET /version`, then `POST /deployment/create` with
a browser FormData body (a WebKit boundary; deployment-name, deployment-source "Camunda Modeler",
enable-duplicate-filtering "true", the diagram as a text/xml Blob named by its file name, each attachment
as a Blob without a type), `accept: application/json` on every call.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from .conftest import REST, basic
from .shapes import DATE, DEFINITION, has_keys, is_error

DEPLOY = Path(__file__).resolve().parents[2] / "fixtures" / "deployments"
BOUNDARY = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
DESIGNER = basic("dana", "dana-pass")
FILE = object()  # a file part, made afresh for each run
DEPLOYMENT_WITH_DEFINITIONS = {"links", "id", "name", "source", "deploymentTime", "tenantId",
                               "deployedProcessDefinitions", "deployedCaseDefinitions",
                               "deployedDecisionDefinitions", "deployedDecisionRequirementsDefinitions"}


@pytest.fixture
def credentials_file(credentials_file: Any) -> Any:
    from engine.identity.credentials import add_user

    add_user(credentials_file, "dana", "dana-pass", ["designer"], [])
    return credentials_file


def modeler_body(name: str, diagram: tuple[str, bytes], attachments: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
                 tenant: str | None = None) -> bytes:
    """The bytes Chromium's FormData serialiser writes for CamundaAPI.deployDiagram."""
    parts = [("deployment-name", None, None, name.encode()), ("deployment-source", None, None, b"Camunda Modeler"),
             ("enable-duplicate-filtering", None, None, b"true")]
    if tenant:
        parts.append(("tenant-id", None, None, tenant.encode()))
    parts.append((diagram[0], diagram[0], "text/xml", diagram[1]))
    parts += [(file, file, "application/octet-stream", data) for file, data in attachments]
    out = b""
    for field, filename, content_type, data in parts:
        out += f"--{BOUNDARY}\r\n".encode()
        disposition = f'Content-Disposition: form-data; name="{field}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += disposition.encode() + b"\r\n"
        if content_type is not None:
            out += f"Content-Type: {content_type}\r\n".encode()
        out += b"\r\n" + data + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def modeler_deploy(client: Any, body: bytes, headers: dict[str, str] = DESIGNER) -> Any:
    return client.post(f"{REST}/deployment/create", data=body,
                       headers={**headers, "accept": "application/json", "Origin": "null",
                                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})


def bpmn_and_form() -> tuple[tuple[str, bytes], list[tuple[str, bytes]]]:
    return (("callback.bpmn", (DEPLOY / "callback.bpmn").read_bytes()),
            [("callback.form", (DEPLOY / "callback.form").read_bytes())])


def test_modeler_deploy_replayed_key_by_key(app: Any) -> None:
    client = app.test_client()
    probe = client.get(f"{REST}/deployment?maxResults=0", headers={"accept": "application/json"})
    is_error(probe, 401, "AuthenticationException")
    assert probe.headers.getlist("WWW-Authenticate")[0].startswith("Basic ")  # the Modeler shows its login fields
    probe = client.get(f"{REST}/deployment?maxResults=0", headers={**DESIGNER, "accept": "application/json"})
    assert probe.status_code == 200 and probe.get_json() == []
    version = client.get(f"{REST}/version", headers={**DESIGNER, "accept": "application/json"})
    assert version.mimetype == "application/json" and version.get_json()["version"].startswith("7.")

    diagram, attachments = bpmn_and_form()
    response = modeler_deploy(client, modeler_body("callback", diagram, attachments))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    has_keys(body, DEPLOYMENT_WITH_DEFINITIONS)
    assert (body["name"], body["source"], body["tenantId"]) == ("callback", "Camunda Modeler", None)
    assert DATE.match(body["deploymentTime"]) and body["links"][0]["href"].endswith(f"/deployment/{body['id']}")
    [definition] = body["deployedProcessDefinitions"].values()  # what the Modeler keeps to start
    has_keys(definition, DEFINITION)
    assert (definition["key"], definition["version"], definition["deploymentId"]) == ("callback_flow", 1, body["id"])
    assert body["deployedCaseDefinitions"] is None and body["deployedDecisionRequirementsDefinitions"] is None
    # the Modeler's "start instance": a fresh version is a draft, which takes no live incident until approved
    start = client.post(f"{REST}/process-definition/{definition['id']}/start", json={"businessKey": None,
                        "variables": None}, headers={**DESIGNER, "accept": "application/json"})
    assert start.status_code in (400, 403) and start.mimetype == "application/json"

    assert definition["resource"] == "callback.bpmn"
    count = client.get(f"{REST}/deployment/count", headers=DESIGNER).get_json()["count"]
    again = modeler_deploy(client, modeler_body("callback", diagram, attachments))  # duplicate filtering
    assert again.status_code == 200 and again.get_json()["id"] == body["id"]
    assert again.get_json()["deployedProcessDefinitions"] is None  # Camunda's null, which the Modeler accepts
    assert client.get(f"{REST}/deployment/count", headers=DESIGNER).get_json()["count"] == count
    assert client.get(f"{REST}/deployment", headers=DESIGNER).get_json()[0]["id"] == body["id"]  # newest first


def test_a_bad_diagram_is_the_parse_error_the_modeler_recognises(app: Any, client: Any) -> None:
    broken = b'<?xml version="1.0"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">\n' \
             b'  <bpmn:process id="p" isExecutable="true">\n    <bpmn:startEvent id="S">\n  </bpmn:process>\n'
    before = client.get(f"{REST}/deployment/count").get_json()["count"]
    found = is_error(modeler_deploy(app.test_client(), modeler_body("broken", ("broken.bpmn", broken))), 400,
                     "ParseException")
    assert found["message"].startswith("ENGINE-09005 Could not parse BPMN process.")
    assert "broken.bpmn" in found["message"]
    [error] = found["details"]["broken.bpmn"]["errors"]
    assert set(error) == {"message", "line", "column", "mainElementId", "elementIds"}
    assert isinstance(error["line"], int) and error["line"] >= 4
    assert found["details"]["broken.bpmn"]["warnings"] == []
    assert client.get(f"{REST}/deployment/count").get_json()["count"] == before  # nothing stored


def test_an_unrunnable_element_names_the_element(app: Any) -> None:
    data = (b'<?xml version="1.0"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            b'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D" targetNamespace="t">\n'
            b'  <bpmn:process id="java" isExecutable="true">\n    <bpmn:startEvent id="S"/>\n'
            b'    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Charge"/>\n'
            b'    <bpmn:serviceTask id="Charge" camunda:class="com.acme.Charge"/>\n'
            b'    <bpmn:sequenceFlow id="F2" sourceRef="Charge" targetRef="E"/>\n    <bpmn:endEvent id="E"/>\n'
            b'  </bpmn:process>\n</bpmn:definitions>\n')
    found = is_error(modeler_deploy(app.test_client(), modeler_body("java", ("java.bpmn", data))), 400, "ParseException")
    errors = found["details"]["java.bpmn"]["errors"]
    assert any(e["mainElementId"] == "Charge" and e["elementIds"] == ["Charge"] for e in errors), errors


@pytest.mark.parametrize(("parts", "words"), [
    ({"deployment-name": "x"}, "No deployment resources contained in the form upload."),
    ({"deployment-name": "x", "stray": "text"}, "No file name found in the deployment resource described by "
                                               "form parameter 'stray'."),
    ({"tenant-id": "t1", "f": FILE}, "tenant"),
    ({"deployment-activation-time": "2026-12-24T10:00:00.000+0000", "f": FILE},
     "deployment-activation-time"),
    ({"enable-duplicate-filtering": "perhaps", "f": FILE}, "enable-duplicate-filtering"),
])
def test_bad_uploads_are_camundas_400(client: Any, parts: dict[str, Any], words: str) -> None:
    parts = {k: (io.BytesIO(b"<x/>"), "a.bpmn") if v is FILE else v for k, v in parts.items()}
    found = is_error(client.post(f"{REST}/deployment/create", data=parts, content_type="multipart/form-data"), 400)
    assert words in found["message"]


def test_not_multipart_is_a_400_and_a_worker_may_not_deploy(app: Any, client: Any) -> None:
    is_error(client.post(f"{REST}/deployment/create", json={"a": 1}), 400, "InvalidRequestException")
    diagram, _ = bpmn_and_form()
    refused = modeler_deploy(app.test_client(), modeler_body("w", diagram), headers=basic("worker", "s3cret-worker"))
    is_error(refused, 403, "AuthorizationException")


def test_pycamunda_style_parts_and_booleans(client: Any) -> None:
    """pycamunda names its parts resource-0, resource-1 and sends Python's "False"/"True"."""
    diagram, attachments = bpmn_and_form()
    data = {"deployment-name": "py", "enable-duplicate-filtering": "False", "deploy-changed-only": "False",
            "resource-0": (io.BytesIO(diagram[1]), diagram[0]), "resource-1": (io.BytesIO(attachments[0][1]),
                                                                                 attachments[0][0])}
    first = client.post(f"{REST}/deployment/create", data=data, content_type="multipart/form-data")
    assert first.status_code == 200, first.get_json()
    data = {**data, "resource-0": (io.BytesIO(diagram[1]), diagram[0]),
            "resource-1": (io.BytesIO(attachments[0][1]), attachments[0][0])}
    second = client.post(f"{REST}/deployment/create", data=data, content_type="multipart/form-data")
    # without duplicate filtering a deployment is made every time, its resources unchanged versions
    assert second.status_code == 200 and second.get_json()["id"] != first.get_json()["id"]
    [definition] = second.get_json()["deployedProcessDefinitions"].values()
    assert definition["version"] == 1


def test_list_count_get_resources_and_delete(client: Any) -> None:
    diagram, attachments = bpmn_and_form()
    made = client.post(f"{REST}/deployment/create", content_type="multipart/form-data", data={
        "deployment-name": "listed", "deployment-source": "ci",
        "a": (io.BytesIO(diagram[1]), diagram[0]), "b": (io.BytesIO(attachments[0][1]), attachments[0][0])}).get_json()
    every = client.get(f"{REST}/deployment").get_json()
    assert made["id"] in [d["id"] for d in every]
    for item in every:
        assert set(item) == {"links", "id", "name", "source", "deploymentTime", "tenantId"}
    assert [d["id"] for d in client.get(f"{REST}/deployment?name=listed&source=ci").get_json()] == [made["id"]]
    assert client.get(f"{REST}/deployment?id={made['id']}").get_json()[0]["name"] == "listed"
    assert client.get(f"{REST}/deployment/count?name=listed&maxResults=0").get_json() == {"count": 1}
    assert client.get(f"{REST}/deployment?maxResults=0").get_json() == []
    got = client.get(f"{REST}/deployment/{made['id']}").get_json()
    assert got["id"] == made["id"] and got["deploymentTime"] == made["deploymentTime"]
    resources = client.get(f"{REST}/deployment/{made['id']}/resources").get_json()
    assert sorted(r["name"] for r in resources) == ["callback.bpmn", "callback.form"]
    assert all(r["deploymentId"] == made["id"] for r in resources)
    one = client.get(f"{REST}/deployment/{made['id']}/resources/{resources[0]['id']}").get_json()
    assert one == resources[0]
    is_error(client.get(f"{REST}/deployment/{made['id']}/resources/nope"), 404)
    is_error(client.get(f"{REST}/deployment/nope"), 404, "InvalidRequestException")
    is_error(client.get(f"{REST}/deployment?nameLike=x%25"), 400)
    assert client.delete(f"{REST}/deployment/{made['id']}?cascade=true").status_code == 204  # drafts only
    is_error(client.get(f"{REST}/deployment/{made['id']}"), 404)  # test_deployment_delete.py has the rules
    is_error(client.delete(f"{REST}/deployment/nope"), 404)


def test_decisions_are_listed_with_the_keys_pycamunda_reads(client: Any) -> None:
    dmn = (DEPLOY / "priority.dmn").read_bytes()
    response = client.post(f"{REST}/deployment/create", content_type="multipart/form-data",
                           data={"deployment-name": "rules", "resource-0": (io.BytesIO(dmn), "priority.dmn")})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["deployedProcessDefinitions"] == {}
    decisions = body["deployedDecisionDefinitions"]
    assert sorted(d["key"] for d in decisions.values()) == ["impact_band", "priority"]
    for decision_id, decision in decisions.items():
        assert decision["id"] == decision_id and decision["resource"] == "priority.dmn"
        assert set(decision) >= {"id", "key", "category", "name", "version", "resource", "deploymentId",
                                 "decisionRequirementsDefinitionId", "decisionRequirementsDefinitionKey",
                                 "tenantId", "versionTag", "historyTimeToLive"}
        assert decision["deploymentId"] == body["id"] and decision["version"] == 1
