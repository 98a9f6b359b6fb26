"""Deployments through the API: several files at once, all or nothing, duplicate filtering, references."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from engine.services.engine_app import IncidentEngine
from tests.conftest import admin_test_client, make_settings

from .helpers import FIXTURES

DEPLOY = FIXTURES.parent / "deployments"
BPMN, FORM, DMN = DEPLOY / "callback.bpmn", DEPLOY / "callback.form", DEPLOY / "priority.dmn"


def _deploy(client: Any, files: list[tuple[str, bytes]], **fields: str) -> Any:
    data: dict[str, Any] = dict(fields)
    data["files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post("/api/v1/deployments", data=data, content_type="multipart/form-data")


def _files(*paths: Path) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in paths]


def _stored(client: Any) -> tuple[list[Any], list[Any]]:
    procs = [(p["key"], p["version"]) for p in client.get("/api/v1/procedures").get_json()["items"]]
    deps = [d["id"] for d in client.get("/api/v1/deployments").get_json()["items"]]
    return procs, deps


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return response.get_json()  # type: ignore[no-any-return]


def test_three_kinds_deploy_together_and_are_listed(client) -> None:  # type: ignore[no-untyped-def]
    response = _deploy(client, _files(BPMN, FORM, DMN), name="callbacks", source="modeler")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["name"], body["source"]) == ("callbacks", "modeler")
    listed = {(r["filename"], r["kind"], r["key"], r["version"], r["status"]) for r in body["resources"]}
    assert listed == {("callback.bpmn", "process", "callback_flow", 1, "created"),
                      ("callback.form", "form", "callback_form", 1, "created"),
                      ("priority.dmn", "decision", "priority", 1, "created"),
                      ("priority.dmn", "decision", "impact_band", 1, "created")}
    again = client.get(f"/api/v1/deployments/{body['id']}").get_json()
    assert again["resources"] == body["resources"]
    assert [d["id"] for d in client.get("/api/v1/deployments").get_json()["items"]] == [body["id"]]
    assert ("callback_flow", 1) in _stored(client)[0]


def test_unchanged_files_are_not_reversioned(client) -> None:  # type: ignore[no-untyped-def]
    first = _deploy(client, _files(BPMN, FORM), name="callbacks").get_json()
    same = _deploy(client, _files(BPMN, FORM), name="callbacks")
    assert same.status_code == 200 and same.get_json()["id"] == first["id"]
    changed_form = FORM.read_bytes().replace(b'"Customer ref"', b'"Customer reference"')
    second = _deploy(client, [(BPMN.name, BPMN.read_bytes()), (FORM.name, changed_form)], name="callbacks")
    assert second.status_code == 201
    by_kind = {r["kind"]: r for r in second.get_json()["resources"]}
    assert (by_kind["process"]["version"], by_kind["process"]["status"]) == (1, "unchanged")
    assert (by_kind["form"]["version"], by_kind["form"]["status"]) == (2, "created")
    assert by_kind["process"]["id"] == next(r["id"] for r in first["resources"] if r["kind"] == "process")
    unfiltered = _deploy(client, [(BPMN.name, BPMN.read_bytes())], name="callbacks", duplicate_filtering="false")
    assert unfiltered.status_code == 201  # a deployment row, its one resource unchanged
    assert [r["status"] for r in unfiltered.get_json()["resources"]] == ["unchanged"]


def test_one_bad_file_stores_nothing_and_names_the_file(client) -> None:  # type: ignore[no-untyped-def]
    before = _stored(client)
    broken = DMN.read_bytes().replace(b"</decisionTable>", b"", 1)
    body = _problem(_deploy(client, [*_files(BPMN, FORM), ("priority.dmn", broken)]), 422)
    assert body["errors"] and all(e["file"] == "priority.dmn" for e in body["errors"])
    assert body["errors"][0]["line"] and body["errors"][0]["column"]
    assert _stored(client) == before


def test_a_bpmn_problem_names_file_line_and_element(client) -> None:  # type: ignore[no-untyped-def]
    bad = BPMN.read_bytes().replace(b'targetRef="Cb_End"', b'targetRef="Nowhere"')
    body = _problem(_deploy(client, [("callback.bpmn", bad), *_files(FORM)]), 422)
    entry = body["errors"][0]
    assert entry["file"] == "callback.bpmn" and entry["line"] and entry.get("element_id")


def test_an_unresolved_form_reference_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    body = _problem(_deploy(client, _files(BPMN)), 422)
    entry = body["errors"][0]
    assert entry["rule"] == "reference.unresolved" and entry["file"] == "callback.bpmn"
    assert entry["element_id"] == "Cb_Task" and "callback_form" in entry["message"]
    assert _stored(client) == ([], [])
    assert _deploy(client, _files(FORM)).status_code == 201  # deployed first: now it resolves
    assert _deploy(client, _files(BPMN)).status_code == 201


def test_a_form_key_resolves_by_file_name_in_the_same_deployment(client) -> None:  # type: ignore[no-untyped-def]
    by_key = DEPLOY / "callback_by_key.bpmn"
    body = _problem(_deploy(client, _files(by_key)), 422)
    assert "callback.form" in body["errors"][0]["message"]
    assert _deploy(client, _files(by_key, FORM)).status_code == 201


def test_a_deferred_latest_reference_waits_for_run_time(client) -> None:  # type: ignore[no-untyped-def]
    deferred = BPMN.read_bytes().replace(
        b'camunda:formRefBinding="latest" />',
        b'camunda:formRefBinding="latest"><bpmn:extensionElements><camunda:properties>'
        b'<camunda:property name="deferredReference" value="true" /></camunda:properties>'
        b'</bpmn:extensionElements></bpmn:userTask>')
    assert _deploy(client, [("callback.bpmn", deferred)]).status_code == 201
    pinned = deferred.replace(b'camunda:formRefBinding="latest"',
                              b'camunda:formRefBinding="version" camunda:formRefVersion="3"')
    body = _problem(_deploy(client, [("callback.bpmn", pinned)]), 422)
    assert body["errors"][0]["rule"] == "reference.deferred"


def test_two_files_claiming_one_key_are_refused(client) -> None:  # type: ignore[no-untyped-def]
    copy = FORM.read_bytes().replace(b'"Amount"', b'"Sum"')
    body = _problem(_deploy(client, [*_files(FORM), ("copy.form", copy)]), 422)
    assert "callback_form" in body["errors"][0]["message"] and body["errors"][0]["file"] == "copy.form"
    assert _stored(client) == ([], [])


@pytest.mark.parametrize(("name", "content", "words"), [
    ("xxe.dmn", b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
                b'<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/">&x;</definitions>', "DOCTYPE"),
    ("plain.form", b"this is not json", "not JSON"),
    ("list.form", b"[1, 2, 3]", "not a Camunda form"),
    ("script.form", b'{"id": "f", "components": [{"type": "script", "key": "x"}]}', "not supported"),
    ("redos.form", b'{"id": "f", "components": [{"type": "textfield", "key": "x", '
                   b'"validate": {"pattern": "^(a+)+$"}}]}', "nests quantifiers"),
    ("notes.txt", b"hello", "must end in"),
    ("bpmn.dmn", BPMN.read_bytes(), "not a DMN file"),
])
def test_bad_resources_are_clear_422s(client, name: str, content: bytes, words: str) -> None:  # type: ignore[no-untyped-def]
    body = _problem(_deploy(client, [(name, content), *_files(FORM)]), 422)
    assert any(words in e["message"] for e in body["errors"]), body
    assert all(e["file"] == name for e in body["errors"])
    assert _stored(client) == ([], [])
    assert client.get("/healthz").status_code == 200


def test_caps_on_files_and_bytes(database_url: str) -> None:
    from api import create_app

    settings = make_settings(database_url, max_deployment_files=3, max_deployment_bytes=6 * 1024)
    eng = IncidentEngine(settings)
    try:
        client = admin_test_client(create_app(settings, eng))
        forms = [(f"f{i}.form", FORM.read_bytes().replace(b"callback_form", f"form_{i}".encode()))
                 for i in range(4)]
        body = _problem(_deploy(client, forms), 422)
        assert "at most 3 files" in body["detail"]
        body = _problem(_deploy(client, forms[:2] + [("big.form", b" " * 7 * 1024)]), 413)
        assert _stored(client) == ([], [])
        assert _problem(_deploy(client, []), 422)["errors"][0]["field"] == "files"
    finally:
        eng.db.dispose()


def test_the_one_file_upload_is_a_deployment_of_one(client) -> None:  # type: ignore[no-untyped-def]
    data = (FIXTURES / "simple_flow.bpmn").read_bytes()
    assert client.post("/api/v1/procedures", data=data, content_type="application/xml").status_code == 201
    items = client.get("/api/v1/deployments").get_json()["items"]
    assert len(items) == 1 and items[0]["source"] == "procedures upload"
    assert [(r["key"], r["version"], r["status"]) for r in items[0]["resources"]] == [("simple_flow", 1, "created")]
    assert client.post("/api/v1/procedures", data=data, content_type="application/xml").status_code == 200
    assert len(client.get("/api/v1/deployments").get_json()["items"]) == 1


def test_a_tenant_is_refused_and_the_listing_pages(client, engine) -> None:  # type: ignore[no-untyped-def]
    from engine.errors import Invalid
    from engine.services import deployments

    with pytest.raises(Invalid, match="tenants"):
        deployments.deploy_files(engine, _files(FORM), tenant_id="acme")
    for i in range(3):
        form = FORM.read_bytes().replace(b"callback_form", f"form_{i}".encode())
        assert _deploy(client, [(f"f{i}.form", form)]).status_code == 201
    page = client.get("/api/v1/deployments?limit=2").get_json()
    rest = client.get(f"/api/v1/deployments?limit=2&cursor={page['next_cursor']}").get_json()
    seen = [d["id"] for d in page["items"] + rest["items"]]
    assert len(seen) == 3 == len(set(seen))
    assert _problem(client.get("/api/v1/deployments/nope"), 404)
    assert _deploy(client, _files(FORM)).status_code == 201


def test_the_configured_model_limits_apply_to_deployments_and_uploads(database_url: str) -> None:
    from api import create_app

    settings = make_settings(database_url, max_elements=2)
    eng = IncidentEngine(settings)
    try:
        client = admin_test_client(create_app(settings, eng))
        body = _problem(_deploy(client, _files(BPMN, FORM, DMN)), 422)
        assert "containment.size" in {e.get("rule") for e in body["errors"]}, body
        assert any("MAX_ELEMENTS" in e["message"] and "limit of 2" in e["message"] for e in body["errors"])
        single = client.post("/api/v1/procedures", data=(FIXTURES / "simple_flow.bpmn").read_bytes(),
                             content_type="application/xml")
        assert "MAX_ELEMENTS" in _problem(single, 422)["errors"][0]["message"]
        assert _stored(client) == ([], [])
    finally:
        eng.db.dispose()
