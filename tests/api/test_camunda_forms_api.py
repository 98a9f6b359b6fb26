"""User tasks with Camunda Forms (.form files): the task serves the schema; completion is validated by it."""
from __future__ import annotations

import io
from typing import Any

import pytest

from .helpers import FIXTURES

DEPLOY = FIXTURES.parent / "deployments"
FORM = DEPLOY / "callback.form"


def _deploy(client: Any, *names: str) -> None:
    data = {"files": [(io.BytesIO((DEPLOY / n).read_bytes()), n) for n in names]}
    response = client.post("/api/v1/deployments", data=data, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()


def _task(client: Any, procedure: str) -> dict[str, Any]:
    started = client.post("/api/v1/incidents", json={"procedure": procedure, "data": {}, "test": True})
    assert started.status_code == 201, started.get_json()
    task = started.get_json()["open_tasks"][0]
    return client.get(f"/api/v1/tasks/{task['id']}").get_json()  # type: ignore[no-any-return]


GOOD = {"customerRef": "C-1234", "amount": 12.5, "severity": "high", "approved": True, "notes": "called",
        "email": "a@example.org"}


@pytest.mark.parametrize(("procedure", "files"), [("callback_flow", ("callback.bpmn", "callback.form")),
                                                  ("callback_by_key", ("callback_by_key.bpmn", "callback.form"))])
def test_the_task_serves_its_form_and_accepts_good_data(client, procedure: str, files: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    _deploy(client, *files)
    task = _task(client, procedure)
    form = task["camunda_form"]
    assert (form["key"], form["version"], form["filename"]) == ("callback_form", 1, "callback.form")
    assert [c.get("key") for c in form["schema"]["components"]][:2] == ["customerRef", "amount"]
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": GOOD})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "completed"


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"customerRef": ""}, "customerRef", "required"),
    ({"customerRef": "X-1"}, "customerRef", "pattern"),
    ({"customerRef": "C-" + "1" * 30}, "customerRef", "at most 20"),
    ({"amount": 1001}, "amount", "at most 1000"),
    ({"amount": "12"}, "amount", "number"),
    ({"severity": "urgent"}, "severity", "not one of"),
    ({"approved": "yes"}, "approved", "true or false"),
    ({"email": "not-an-address"}, "email", "e-mail"),
    ({"surprise": 1}, "surprise", "unknown field"),
])
def test_bad_submissions_are_422_per_field(client, change: dict[str, Any], field: str, words: str) -> None:  # type: ignore[no-untyped-def]
    _deploy(client, "callback.bpmn", "callback.form")
    task = _task(client, "callback_flow")
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {**GOOD, **change}})
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]
    assert [e["field"] for e in errors] == [field] and words in errors[0]["message"]
    assert client.get(f"/api/v1/tasks/{task['id']}").get_json()["state"] == "ready"


def test_a_hidden_field_is_not_submitted(client) -> None:  # type: ignore[no-untyped-def]
    _deploy(client, "callback.bpmn", "callback.form")
    task = _task(client, "callback_flow")
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {**GOOD, "approved": False}})
    assert done.status_code == 200, done.get_json()
    trail = client.get(f"/api/v1/incidents/{task['incident_id']}/audit?test=true").get_json()["items"]
    submitted = next(e["data"] for e in trail if e["element_id"] == "Cb_Task" and e["to_state"] == "completed")
    assert "notes" not in submitted and submitted["customerRef"] == "C-1234"


def test_forms_are_listed_with_their_schema(client) -> None:  # type: ignore[no-untyped-def]
    _deploy(client, "callback.form")
    assert [f["key"] for f in client.get("/api/v1/forms").get_json()["items"]] == ["callback_form"]
    latest = client.get("/api/v1/forms/callback_form").get_json()
    assert latest["version"] == 1 and latest["schema"]["id"] == "callback_form"
    assert client.get("/api/v1/forms/callback_form/versions/1").get_json()["schema"] == latest["schema"]
    assert client.get("/api/v1/forms/nope").status_code == 404


def _with_start_form(client: Any) -> None:
    started = (DEPLOY / "callback.bpmn").read_bytes().replace(
        b'<bpmn:startEvent id="Cb_Start" />', b'<bpmn:startEvent id="Cb_Start" camunda:formRef="callback_form" />')
    data = {"files": [(io.BytesIO(started), "callback.bpmn"), (io.BytesIO(FORM.read_bytes()), "callback.form")]}
    response = client.post("/api/v1/deployments", data=data, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    assert not any("formRef" in w.get("message", "") for w in response.get_json().get("warnings", []))


def test_a_start_form_checks_the_start_data_per_field(client) -> None:  # type: ignore[no-untyped-def]
    _with_start_form(client)
    bad = client.post("/api/v1/incidents", json={"procedure": "callback_flow", "test": True,
                                                 "data": {**GOOD, "customerRef": "X-1", "surprise": 1}})
    assert bad.status_code == 422, bad.get_json()
    assert sorted(e["field"] for e in bad.get_json()["errors"]) == ["customerRef", "surprise"]
    assert client.get("/api/v1/incidents?test=true").get_json()["items"] == []  # nothing started
    good = client.post("/api/v1/incidents", json={"procedure": "callback_flow", "test": True,
                                                  "data": {**GOOD, "approved": False}})
    assert good.status_code == 201, good.get_json()
    assert good.get_json()["data"]["customerRef"] == "C-1234" and "notes" not in good.get_json()["data"]


def test_a_task_keeps_the_form_version_it_was_created_with(client) -> None:  # type: ignore[no-untyped-def]
    _deploy(client, "callback.bpmn", "callback.form")
    task = _task(client, "callback_flow")
    assert task["camunda_form"]["version"] == 1
    stricter = FORM.read_bytes().replace(b'"max": 1000', b'"max": 10')  # version 2: amounts up to 10
    response = client.post("/api/v1/deployments", data={"files": [(io.BytesIO(stricter), "callback.form")]},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    assert client.get(f"/api/v1/tasks/{task['id']}").get_json()["camunda_form"]["version"] == 1  # pinned
    assert _task(client, "callback_flow")["camunda_form"]["version"] == 2  # a new task takes the latest
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": GOOD})  # amount 12.5: fine in v1
    assert done.status_code == 200, done.get_json()
