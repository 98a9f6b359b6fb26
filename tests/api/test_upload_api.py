"""Uploading BPMN through the API: the accepted encodings, process selection, versions and reading them back."""
from __future__ import annotations

import hashlib
import io
from datetime import datetime
from typing import Any

import pytest

from .helpers import FIXTURES, upload

SIMPLE = FIXTURES / "simple_flow.bpmn"
TRIAGE = FIXTURES / "camunda_triage.bpmn"
TWO = FIXTURES / "two_processes.bpmn"


def _multipart(client: Any, data: bytes, process: str | None = None, filename: str = "model.bpmn") -> Any:
    form: dict[str, Any] = {"file": (io.BytesIO(data), filename)}
    if process is not None:
        form["process"] = process
    return client.post("/api/v1/procedures", data=form, content_type="multipart/form-data")


def _raw(client: Any, data: bytes, content_type: str, **query: str) -> Any:
    return client.post("/api/v1/procedures", data=data, content_type=content_type, query_string=query)


def _is_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["type"]
    return body


@pytest.mark.parametrize("how", ["multipart", "application/xml", "text/xml", "application/xml; charset=utf-8",
                                 "text/xml; charset=UTF-8", "application/bpmn+xml"])
def test_each_accepted_encoding_stores_version_one(client, how: str) -> None:  # type: ignore[no-untyped-def]
    data = SIMPLE.read_bytes()
    response = _multipart(client, data) if how == "multipart" else _raw(client, data, how)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["key"], body["version"], body["status"]) == ("simple_flow", 1, "draft")
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    listed = client.get("/api/v1/procedures").get_json()["items"]
    assert [(p["key"], p["version"]) for p in listed] == [("simple_flow", 1)]


def test_the_201_body_describes_the_version(client) -> None:  # type: ignore[no-untyped-def]
    data = SIMPLE.read_bytes()
    body = _raw(client, data, "application/xml").get_json()
    assert body["name"] == "Simple flow"
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    created = datetime.fromisoformat(body["created_at"])
    assert created.tzinfo is not None
    tasks = {t["id"]: t for t in body["user_tasks"]}
    assert set(tasks) == {"Task_Log", "Task_Fix", "Task_A", "Task_B", "Task_Close"}
    log = tasks["Task_Log"]
    assert log["name"] == "Log" and log["lane"] == "team-a"
    assert log["candidate_groups"] == ["supervisors"]  # as declared; the lane is added per task at run time
    assert [f["id"] for f in log["form"]] == ["summary", "ok", "count", "severity"]
    summary = log["form"][0]
    assert (summary["type"], summary["required"], summary["label"]) == ("string", True, "Summary")
    severity = log["form"][3]
    assert [o["id"] for o in severity["options"]] == ["low", "high"]
    assert tasks["Task_B"]["lane"] == "team-b"


def test_several_executable_processes_need_a_choice(client) -> None:  # type: ignore[no-untyped-def]
    data = TWO.read_bytes()
    for refused in (_raw(client, data, "application/xml"), _multipart(client, data)):
        body = _is_problem(refused, 422)
        text = " ".join(e["message"] for e in body["errors"])
        assert "proc_one" in text and "proc_two" in text
    assert client.get("/api/v1/procedures").get_json()["items"] == []

    by_field = _multipart(client, data, process="proc_two")
    assert by_field.status_code == 201, by_field.get_json()
    assert by_field.get_json()["key"] == "proc_two"
    assert [t["id"] for t in by_field.get_json()["user_tasks"]] == ["Two_Task"]
    by_query = _raw(client, data, "application/xml", process="proc_one")
    assert by_query.status_code == 201, by_query.get_json()
    assert by_query.get_json()["key"] == "proc_one"
    assert [t["id"] for t in by_query.get_json()["user_tasks"]] == ["One_Task"]
    unknown = _is_problem(_raw(client, data, "application/xml", process="proc_three"), 422)
    assert "proc_three" in " ".join(e["message"] for e in unknown["errors"])
    keys = {p["key"] for p in client.get("/api/v1/procedures").get_json()["items"]}
    assert keys == {"proc_one", "proc_two"}


def test_identical_bytes_return_the_same_version_and_new_bytes_a_new_one(client) -> None:  # type: ignore[no-untyped-def]
    data = SIMPLE.read_bytes()
    first = _raw(client, data, "application/xml")
    assert first.status_code == 201
    again = _multipart(client, data)
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["version"] == 1 and again.get_json()["sha256"] == first.get_json()["sha256"]
    changed = data.replace(b'name="Simple flow"', b'name="Simple flow, revised"')
    assert changed != data
    second = _raw(client, changed, "text/xml")
    assert second.status_code == 201, second.get_json()
    assert second.get_json()["version"] == 2
    assert second.get_json()["name"] == "Simple flow, revised"
    assert second.get_json()["sha256"] == hashlib.sha256(changed).hexdigest()
    # re-uploading version 1's bytes after version 2 exists still answers with version 1
    old = _raw(client, data, "application/xml")
    assert (old.status_code, old.get_json()["version"]) == (200, 1)
    versions = client.get("/api/v1/procedures/simple_flow").get_json()["items"]
    assert sorted(v["version"] for v in versions) == [1, 2]


def test_listing_versions_and_reading_the_exact_bytes_back(client) -> None:  # type: ignore[no-untyped-def]
    v1 = SIMPLE.read_bytes()
    v2 = v1.replace(b"<bpmn:endEvent id=\"End\" />", b"<bpmn:endEvent id=\"End\" name=\"Done\" />")
    assert v2 != v1
    triage = TRIAGE.read_bytes()
    assert upload(client, SIMPLE).status_code == 201
    assert _raw(client, v2, "application/xml").status_code == 201
    assert _multipart(client, triage).status_code == 201

    latest = client.get("/api/v1/procedures")
    assert latest.status_code == 200
    assert sorted((p["key"], p["version"]) for p in latest.get_json()["items"]) == [
        ("incident_triage", 1), ("simple_flow", 2)]

    versions = client.get("/api/v1/procedures/simple_flow").get_json()["items"]
    by_number = {v["version"]: v for v in versions}
    assert set(by_number) == {1, 2}
    assert by_number[1]["sha256"] == hashlib.sha256(v1).hexdigest()
    assert by_number[2]["sha256"] == hashlib.sha256(v2).hexdigest()

    one = client.get("/api/v1/procedures/simple_flow/versions/1")
    assert one.status_code == 200
    assert (one.get_json()["key"], one.get_json()["version"]) == ("simple_flow", 1)
    assert one.get_json()["sha256"] == hashlib.sha256(v1).hexdigest()
    assert {t["id"] for t in one.get_json()["user_tasks"]} >= {"Task_Log", "Task_Close"}

    for number, original in ((1, v1), (2, v2)):
        xml = client.get(f"/api/v1/procedures/simple_flow/versions/{number}/bpmn")
        assert xml.status_code == 200
        assert xml.mimetype == "application/xml"
        assert xml.get_data() == original
    assert client.get("/api/v1/procedures/incident_triage/versions/1/bpmn").get_data() == triage


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "application/octet-stream"])
def test_a_wrong_content_type_is_415(client, content_type: str) -> None:  # type: ignore[no-untyped-def]
    response = _raw(client, SIMPLE.read_bytes(), content_type)
    body = _is_problem(response, 415)
    assert "multipart" in body.get("detail", "")
    assert client.get("/api/v1/procedures").get_json()["items"] == []


def test_a_body_without_a_content_type_is_415(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/procedures", data=SIMPLE.read_bytes())
    _is_problem(response, 415)


def test_multipart_without_a_file_is_422(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/procedures", data={"process": "simple_flow"},
                           content_type="multipart/form-data")
    body = _is_problem(response, 422)
    assert any(e.get("field") == "file" and e["message"] for e in body["errors"])
    wrong_field = client.post("/api/v1/procedures",
                              data={"upload": (io.BytesIO(SIMPLE.read_bytes()), "x.bpmn")},
                              content_type="multipart/form-data")
    _is_problem(wrong_field, 422)
    assert client.get("/api/v1/procedures").get_json()["items"] == []


def test_the_stored_bytes_are_not_labelled_with_a_charset_they_do_not_use(client) -> None:  # type: ignore[no-untyped-def]
    """RFC 7303: a charset parameter overrides the XML declaration, so a Latin-1 file served as
    `application/xml; charset=utf-8` would be misread by a conforming client. Serve it unlabelled
    (or with its own charset)."""
    latin1 = (SIMPLE.read_text(encoding="utf-8")
              .replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
              .replace('name="Simple flow"', 'name="Procédure simple"')).encode("latin-1")
    created = _raw(client, latin1, "application/xml")
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["name"] == "Procédure simple"
    xml = client.get("/api/v1/procedures/simple_flow/versions/1/bpmn")
    assert xml.get_data() == latin1
    assert xml.mimetype == "application/xml"
    charset = xml.mimetype_params.get("charset")
    assert charset is None or charset.lower() in ("iso-8859-1", "latin-1", "latin1"), xml.headers["Content-Type"]
