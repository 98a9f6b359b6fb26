"""Requests real clients may send that this dialect does not serve: Camunda's 404/405/400 body, never a
500 or an HTML page (pycamunda maps these to NotFound/BadRequest; the Modeler shows their message)."""
from __future__ import annotations

from typing import Any

import pytest

from .conftest import REST, start_major

UNSUPPORTED = [
    ("GET", "/job?processInstanceId=x"), ("PUT", "/job/x/retries"), ("GET", "/decision-definition"),
    ("GET", "/case-instance"), ("GET", "/execution"), ("GET", "/filter"), ("GET", "/user"), ("GET", "/group"),
    ("GET", "/authorization"), ("POST", "/task/{task}/delegate"), ("POST", "/task/{task}/resolve"),
    ("PUT", "/task/{task}/variables/x"), ("GET", "/task/{task}/identity-links"), ("POST", "/process-instance/x/modification"),
    ("PUT", "/process-definition/{definition}/suspended"), ("DELETE", "/task/{task}"), ("GET", "/metrics"),
    ("POST", "/migration/execute"), ("GET", "/history/process-instance"), ("PATCH", "/task/{task}"),
]


@pytest.mark.parametrize(("method", "template"), UNSUPPORTED)
def test_unsupported_requests_get_camunda_bodies(client: Any, method: str, template: str) -> None:
    instance = start_major(client)
    task = client.get(f"{REST}/task?processInstanceId={instance['id']}").get_json()[0]
    path = template.format(task=task["id"], definition=instance["definitionId"])
    response = client.open(f"{REST}{path}", method=method, json={})
    assert response.status_code in (400, 404, 405), (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) >= {"type", "message"} and body["message"]
