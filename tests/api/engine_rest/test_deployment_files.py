"""/deployment resources read back (`/resources/{id}/data`) and the parse error each resource type gets.

Camunda's messages (engine loggers, camunda-bpm-platform): a bad BPMN file is ENGINE-09005 (the prefix
Camunda Modeler recognises), a bad DMN file ENGINE-22004 with a DMN-02003 (unreadable XML) or DMN-02004
cause, a bad Camunda Form ENGINE-09033. Each carries `details` per resource.
"""
from __future__ import annotations

import io
from typing import Any

import pytest

from .conftest import REST
from .shapes import is_error
from .test_deployment import DEPLOY, bpmn_and_form

GOOD_DMN = (DEPLOY / "priority.dmn").read_bytes()
BROKEN_XML_DMN = b'<?xml version="1.0"?>\n<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/">\n<decision id="d">\n'
BAD_CELL_DMN = GOOD_DMN.replace(b'<text>"P1"</text>', b'<text>"P1" +* </text>')


def deploy(client: Any, files: dict[str, bytes], name: str = "files") -> Any:
    data: dict[str, Any] = {"deployment-name": name}
    data.update({f"resource-{i}": (io.BytesIO(body), filename) for i, (filename, body) in enumerate(files.items())})
    return client.post(f"{REST}/deployment/create", data=data, content_type="multipart/form-data")


def test_each_file_is_read_back_byte_for_byte(client: Any) -> None:
    diagram, [form] = bpmn_and_form()
    sent = {diagram[0]: diagram[1], form[0]: form[1], "priority.dmn": GOOD_DMN}
    made = deploy(client, sent)
    assert made.status_code == 200, made.get_json()
    deployment_id = made.get_json()["id"]
    resources = client.get(f"{REST}/deployment/{deployment_id}/resources").get_json()
    assert sorted(r["name"] for r in resources) == sorted(sent)
    types = {"callback.bpmn": "application/xml", "callback.form": "application/json", "priority.dmn": "application/xml"}
    for item in resources:
        data = client.get(f"{REST}/deployment/{deployment_id}/resources/{item['id']}/data")
        assert data.status_code == 200 and data.data == sent[item["name"]]
        assert data.mimetype == types[item["name"]]
        assert data.headers["Content-Disposition"] == f'attachment; filename="{item["name"]}"'
    is_error(client.get(f"{REST}/deployment/{deployment_id}/resources/nope/data"), 404, "InvalidRequestException")
    is_error(client.get(f"{REST}/deployment/nope/resources/{resources[0]['id']}/data"), 404)
    # a resource of another deployment is not this deployment's
    other = deploy(client, {"priority.dmn": GOOD_DMN}, name="other").get_json()["id"]
    theirs = client.get(f"{REST}/deployment/{other}/resources").get_json()[0]["id"]
    if theirs != next(r["id"] for r in resources if r["name"] == "priority.dmn"):
        is_error(client.get(f"{REST}/deployment/{deployment_id}/resources/{theirs}/data"), 404)


def test_an_unchanged_resource_reads_back_from_the_version_it_points_at(client: Any) -> None:
    first = deploy(client, {"priority.dmn": GOOD_DMN}, name="again").get_json()["id"]
    second = client.post(f"{REST}/deployment/create", content_type="multipart/form-data", data={
        "deployment-name": "again", "enable-duplicate-filtering": "false",
        "r": (io.BytesIO(GOOD_DMN), "priority.dmn")}).get_json()["id"]
    assert first != second
    [item] = client.get(f"{REST}/deployment/{second}/resources").get_json()
    assert client.get(f"{REST}/deployment/{second}/resources/{item['id']}/data").data == GOOD_DMN


@pytest.mark.parametrize(("filename", "body", "prefix"), [
    ("broken.dmn", BROKEN_XML_DMN,
     "ENGINE-22004 Unable to transform DMN resource 'broken.dmn'. DMN-02003 Unable to transform decisions from "
     "input stream."),
    ("cells.dmn", BAD_CELL_DMN,
     "ENGINE-22004 Unable to transform DMN resource 'cells.dmn'. DMN-02004 Error while transforming decisions:"),
    ("bad.form", b'{"components": [', "ENGINE-09033 Could not parse Camunda Form resource bad.form. Cause:"),
    ("shape.form", b'{"id": "f", "components": "none"}',
     "ENGINE-09033 Could not parse Camunda Form resource shape.form. Cause:"),
])
def test_each_resource_type_has_camundas_parse_message(client: Any, filename: str, body: bytes,
                                                        prefix: str) -> None:
    before = client.get(f"{REST}/deployment/count").get_json()["count"]
    found = is_error(deploy(client, {filename: body}), 400, "ParseException")
    assert found["message"].startswith(prefix), found["message"]
    assert not found["message"].startswith("ENGINE-09005")  # the Modeler would say "could not parse the diagram"
    assert list(found["details"]) == [filename]
    errors = found["details"][filename]["errors"]
    assert errors and all(set(e) == {"message", "line", "column", "mainElementId", "elementIds"} for e in errors)
    assert found["details"][filename]["warnings"] == []
    assert client.get(f"{REST}/deployment/count").get_json()["count"] == before


def test_several_bad_files_each_get_their_details_and_the_first_names_the_message(client: Any) -> None:
    diagram, _ = bpmn_and_form()
    found = is_error(deploy(client, {"bad.form": b"[]", diagram[0]: diagram[1], "broken.dmn": BROKEN_XML_DMN}),
                     400, "ParseException")
    assert found["message"].startswith("ENGINE-09033 Could not parse Camunda Form resource bad.form.")
    assert set(found["details"]) == {"bad.form", "broken.dmn"}
    assert "broken.dmn" in found["message"]
