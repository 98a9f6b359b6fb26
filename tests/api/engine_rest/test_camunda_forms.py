"""A Camunda Form through the dialect, as Camunda 7 Tasklist uses it: /form, /deployed-form, form-variables,
then complete, validated against the deployed .form (issue 13's forms service)."""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from engine.services.engine_app import IncidentEngine
from tests.support.procedures import activate

from .conftest import REST, start_major
from .shapes import is_error

DEPLOY = Path(__file__).resolve().parents[2] / "fixtures" / "deployments"


def deploy(client: Any, *names: str) -> dict[str, Any]:
    parts = {f"r{n}": (io.BytesIO((DEPLOY / name).read_bytes()), name) for n, name in enumerate(names)}
    response = client.post(f"{REST}/deployment/create", data={"deployment-name": "forms", **parts},
                           content_type="multipart/form-data")
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def first_task(client: Any, key: str, business_key: str) -> dict[str, Any]:
    instance = client.post(f"{REST}/process-definition/key/{key}/start", json={"businessKey": business_key})
    assert instance.status_code == 200, instance.get_json()
    [task] = client.get(f"{REST}/task?processInstanceId={instance.get_json()['id']}").get_json()
    return task  # type: ignore[no-any-return]


def test_a_form_ref_task_as_tasklist_sees_it(client: Any, engine: IncidentEngine) -> None:
    deploy(client, "callback.bpmn", "callback.form")
    activate(engine, "callback_flow")
    task = first_task(client, "callback_flow", "F-1")
    form = client.get(f"{REST}/task/{task['id']}/form").get_json()
    assert form == {"key": None, "contextPath": None,
                    "camundaFormRef": {"key": "callback_form", "binding": "latest", "version": None}}
    schema = client.get(f"{REST}/task/{task['id']}/deployed-form")
    assert schema.status_code == 200 and schema.mimetype == "application/json"
    assert schema.get_json() == json.loads((DEPLOY / "callback.form").read_text())
    assert isinstance(client.get(f"{REST}/task/{task['id']}/form-variables?deserializeValues=false").get_json(), dict)
    bad = is_error(client.post(f"{REST}/task/{task['id']}/submit-form", json={"variables": {
        "customerRef": {"value": "X-1"}, "amount": {"value": 5000, "type": "Integer"}}}), 400)
    assert "customerRef" in bad["message"] and "amount" in bad["message"]
    done = client.post(f"{REST}/task/{task['id']}/submit-form", json={"variables": {
        "customerRef": {"value": "C-123"}, "amount": {"value": 20, "type": "Integer"},
        "approved": {"value": True}, "email": {"value": "a@example.org"}}})
    assert done.status_code == 204, done.get_json()


def test_a_form_key_task_and_a_task_without_a_deployed_form(client: Any, engine: IncidentEngine) -> None:
    deploy(client, "callback_by_key.bpmn", "callback.form")
    activate(engine, "callback_by_key")
    task = first_task(client, "callback_by_key", "F-2")
    form = client.get(f"{REST}/task/{task['id']}/form").get_json()
    assert form == {"key": "camunda-forms:deployment:callback.form", "contextPath": None, "camundaFormRef": None}
    assert client.get(f"{REST}/task/{task['id']}/deployed-form").get_json()["id"] == "callback_form"
    major = start_major(client, "F-3")  # camunda:formData fields: no deployed form
    [generated] = client.get(f"{REST}/task?processInstanceId={major['id']}").get_json()
    found = is_error(client.get(f"{REST}/task/{generated['id']}/deployed-form"), 400, "BadUserRequestException")
    assert "formRef" in found["message"]
    is_error(client.get(f"{REST}/task/nope/deployed-form"), 404)
