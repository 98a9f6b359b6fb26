"""Who may call the dialect: the same permissions as /api/v1 (the engine services check them), per role."""
from __future__ import annotations

from typing import Any

import pytest

from .conftest import REST, start_major

CALLERS = {"designer": ("designer",), "agent": ("agent",), "supervisor": ("supervisor",), "ops": ("ops",),
           "integration": ("integration",), "no-role": ()}
# endpoint: expected status per caller, in the order of CALLERS
MATRIX = {
    "GET /version":                              (200, 200, 200, 200, 200, 200),
    "GET /process-definition":                   (200, 200, 200, 200, 200, 403),
    "POST /process-definition/key/major_incident/start": (403, 200, 200, 403, 403, 403),
    "GET /process-instance":                     (403, 200, 200, 403, 403, 403),
    "GET /task":                                 (403, 200, 200, 403, 403, 403),
    "GET /task/{task}":                          (403, 200, 200, 403, 403, 403),
    "POST /task/{task}/claim":                   (403, 204, 204, 403, 403, 403),
    "GET /history/task?processInstanceId={incident}": (403, 200, 200, 200, 403, 403),
    "GET /incident":                             (403, 403, 200, 200, 403, 403),
    "DELETE /process-instance/{incident}":       (403, 403, 204, 403, 403, 403),
}
BODIES = {"POST /process-definition/key/major_incident/start": {
    "variables": {"priority": {"value": "P1"}, "summary": {"value": "x"}, "caller_id": {"value": "C"}}}}


@pytest.mark.parametrize("endpoint", list(MATRIX))
def test_dialect_roles(client: Any, rest_as: Any, endpoint: str) -> None:
    method, template = endpoint.split(" ", 1)
    got = {}
    for caller, roles in CALLERS.items():
        instance = start_major(client, f"R-{caller}")
        task = client.get(f"{REST}/task?processInstanceId={instance['id']}").get_json()[0]
        path = template.format(incident=instance["id"], task=task["id"])
        caller_client = rest_as(f"{caller}-user", roles, ("service-desk",))
        response = caller_client.open(f"{REST}{path}", method=method, json=BODIES.get(endpoint, {}))
        got[caller] = response.status_code
        if response.status_code >= 400:
            assert response.mimetype == "application/json" and "type" in response.get_json()
    expected = dict(zip(CALLERS, MATRIX[endpoint], strict=True))
    assert got == expected
