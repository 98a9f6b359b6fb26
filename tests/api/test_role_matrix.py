"""Every role against every endpoint: the status each caller gets, on SQLite and PostgreSQL.

The world of each case: `simple_flow` uploaded and one incident started by an admin, its first task
(Task_Log, offered to groups team-a and supervisors) open and unclaimed. Callers of team-a take part in
that incident; callers of team-b do not, so for them it and its task do not exist (404, not 403).
"""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import bearer

from .helpers import FIXTURES, open_task, start, upload_active

CALLERS: dict[str, tuple[list[str], list[str]]] = {
    "designer": (["designer"], ["team-a"]),
    "agent": (["agent"], ["team-a"]),
    "supervisor": (["supervisor"], ["team-a"]),
    "approver": (["approver"], ["team-a"]),
    "ops": (["ops"], ["team-a"]),
    "admin": (["admin"], []),
    "no-role": ([], ["team-a"]),
    "agent-b": (["agent"], ["team-b"]),
    "supervisor-b": (["supervisor"], ["team-b"]),
    "anonymous": ([], []),
}
COLUMNS = tuple(CALLERS)
# Roles added after the matrix was written, each with the endpoints of the matrix it may call (every other
# one is 403 for it); the endpoints outside the matrix check them by their declared roles, like the rest.
LATER_CALLERS: dict[str, tuple[list[str], list[str]]] = {
    "integration": (["integration"], ["team-a"]),  # a CRM or telephony system: sends messages and signals
    "dpo": (["dpo"], ["team-a"]),  # the data-protection officer: data subjects' requests (issue #17)
}
LATER_ALLOWED: dict[str, dict[str, int]] = {
    "integration": {"GET /healthz": 200, "GET /openapi.json": 200, "GET /api/v1/procedures": 200,
                    "GET /api/v1/procedures/{key}": 200, "GET /api/v1/procedures/{key}/versions/1": 200,
                    "GET /api/v1/procedures/{key}/versions/1/bpmn": 200,
                    "GET /api/v1/procedures/{key}/versions/1/lint": 200},
}
LATER_ALLOWED["dpo"] = dict(LATER_ALLOWED["integration"])

# endpoint: expected status per caller, in the order of COLUMNS:
#     designer agent supervisor approver ops admin no-role agent-b supervisor-b anonymous
MATRIX: dict[str, tuple[int, ...]] = {
    "GET /healthz":                     (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "GET /openapi.json":                (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "GET /api/v1/procedures":           (200, 200, 200, 200, 200, 200, 403, 200, 200, 401),
    "POST /api/v1/procedures":          (201, 403, 403, 403, 403, 201, 403, 403, 403, 401),
    "GET /api/v1/procedures/{key}":     (200, 200, 200, 200, 200, 200, 403, 200, 200, 401),
    "GET /api/v1/procedures/{key}/versions/1":      (200, 200, 200, 200, 200, 200, 403, 200, 200, 401),
    "GET /api/v1/procedures/{key}/versions/1/bpmn": (200, 200, 200, 200, 200, 200, 403, 200, 200, 401),
    "GET /api/v1/incidents":            (403, 200, 200, 403, 403, 200, 403, 200, 200, 401),
    "POST /api/v1/incidents":           (403, 201, 201, 403, 403, 201, 403, 201, 201, 401),
    # a test incident ({"test": true}): designers and ops try a procedure out; agents start only live ones
    "POST /api/v1/incidents (test)":    (201, 403, 403, 403, 201, 201, 403, 403, 403, 401),
    "GET /api/v1/incidents/{incident}": (403, 200, 200, 403, 403, 200, 403, 404, 404, 401),
    "POST /api/v1/incidents/{incident}/cancel": (403, 403, 200, 403, 403, 200, 403, 403, 404, 401),
    "GET /api/v1/incidents/{incident}/audit":   (403, 200, 200, 403, 200, 200, 403, 404, 404, 401),
    "GET /api/v1/audit":                (403, 403, 403, 403, 200, 200, 403, 403, 403, 401),
    "GET /api/v1/tasks":                (403, 200, 200, 403, 403, 200, 403, 200, 200, 401),
    "GET /api/v1/tasks/{task}":         (403, 200, 200, 403, 403, 200, 403, 404, 404, 401),
    "POST /api/v1/tasks/{task}/claim":  (403, 200, 200, 403, 403, 200, 403, 404, 404, 401),
    # precondition: the task is held by carol, so the agent is neither its assignee nor a supervisor
    "POST /api/v1/tasks/{task}/unclaim": (403, 403, 200, 403, 403, 200, 403, 404, 404, 401),
    "POST /api/v1/tasks/{task}/assign": (403, 403, 200, 403, 403, 200, 403, 403, 404, 401),
    "POST /api/v1/tasks/{task}/complete": (403, 200, 200, 403, 403, 200, 403, 404, 404, 401),
    "GET /api/v1/procedures/{key}/versions/1/lint": (200, 200, 200, 200, 200, 200, 403, 200, 200, 401),
    "GET /api/v1/procedures/{key}/adherence":       (200, 403, 200, 200, 200, 200, 403, 403, 200, 401),
    "GET /api/v1/incidents/{incident}/deliveries":  (403, 200, 200, 403, 200, 200, 403, 404, 404, 401),
    "GET /api/v1/incidents/{incident}/checks":      (403, 200, 200, 403, 200, 200, 403, 404, 404, 401),
    # the check has not been reached yet: allowed callers get 409, not a silent override
    "POST /api/v1/incidents/{incident}/checks/{name}/override": (403, 403, 409, 403, 403, 409, 403, 403, 404, 401),
}

TRIAGE = (FIXTURES / "camunda_triage.bpmn").read_bytes()
BODIES: dict[str, Any] = {
    "POST /api/v1/incidents": {"json": {"procedure": "simple_flow", "data": {}}},
    "POST /api/v1/incidents (test)": {"json": {"procedure": "simple_flow", "data": {}, "test": True}},
    "POST /api/v1/incidents/{incident}/cancel": {"json": {"reason": "duplicate call"}},
    "POST /api/v1/tasks/{task}/assign": {"json": {"user": "dave"}},
    "POST /api/v1/incidents/{incident}/checks/{name}/override": {"json": {"reason": "known caller"}},
    "POST /api/v1/tasks/{task}/complete": {"json": {"data": {"summary": "line down", "ok": True}}},
}


def _request(endpoint: str, caller: str) -> dict[str, Any]:
    if endpoint == "POST /api/v1/procedures":  # different bytes per caller, so each allowed upload is new
        return {"data": TRIAGE + f"<!-- {caller} -->".encode(), "content_type": "application/xml"}
    return dict(BODIES.get(endpoint, {}))


@pytest.mark.parametrize("endpoint", list(MATRIX))
def test_role_matrix(client: Any, token: Any, endpoint: str) -> None:
    """One row of the matrix, every mismatch reported at once; each caller of a changing call gets a fresh incident."""
    assert upload_active(client, FIXTURES / "simple_flow.bpmn").status_code == 201
    method, template = endpoint.split(" ")[:2]  # "(test)" names a variant of the same operation
    changes_the_task = method == "POST" and ("{incident}" in template or "{task}" in template)
    got: dict[str, int] = {}
    incident = start(client, "simple_flow").get_json()
    for caller, (roles, groups) in {**CALLERS, **LATER_CALLERS}.items():
        if changes_the_task and caller != COLUMNS[0]:
            incident = start(client, "simple_flow").get_json()
        task = open_task(incident, "Task_Log")
        if endpoint.endswith("/unclaim"):  # held by carol: the agent is neither its assignee nor a supervisor
            assert client.post(f"/api/v1/tasks/{task['id']}/assign", json={"user": "carol"}).status_code == 200
        path = template.format(key="simple_flow", incident=incident["id"], task=task["id"], name="checked")
        headers = {"Authorization": ""} if caller == "anonymous" else \
            bearer(token(f"{caller}-user", roles, groups))
        response = client.open(path, method=method, headers=headers, **_request(endpoint, caller))
        got[caller] = response.status_code
        if response.status_code >= 400:
            assert response.headers["Content-Type"] == "application/problem+json", (caller, response.data)
        if response.status_code == 401:
            assert response.headers["WWW-Authenticate"].startswith('Bearer realm="incident-engine"')
    expected = dict(zip(COLUMNS, MATRIX[endpoint], strict=True))
    expected.update({caller: LATER_ALLOWED[caller].get(endpoint, 403) for caller in LATER_CALLERS})
    assert got == expected, {c: f"got {got[c]}, expected {expected[c]}" for c in expected if got[c] != expected[c]}


def _documented(client: Any) -> dict[str, list[str]]:
    """Every operation of /openapi.json with the roles it declares (x-required-roles)."""
    paths = client.get("/openapi.json").get_json()["paths"]
    return {f"{method.upper()} {path}": op.get("x-required-roles")
            for path, ops in paths.items() for method, op in ops.items()
            if method in ("get", "post", "put", "patch", "delete")}


def _covered() -> set[str]:
    return {" ".join(endpoint.split(" ")[:2]).replace("versions/1", "versions/{number}")
            .replace("{incident}", "{incident_id}").replace("{task}", "{task_id}") for endpoint in MATRIX}


def test_every_api_operation_declares_its_roles(client: Any) -> None:
    undeclared = [op for op, roles in _documented(client).items() if op.split(" ", 1)[1].startswith("/api/")
                  and not roles]
    assert not undeclared, undeclared


def test_operations_outside_the_matrix_enforce_the_roles_they_declare(client: Any, token: Any) -> None:
    """Governance and the later endpoints: the declared roles get past authorization (whatever the
    state makes of the request), every other role is refused with 403, no token with 401."""
    rest = {op: roles for op, roles in _documented(client).items() if op not in _covered() and roles}
    assert rest, "nothing outside the hand-written matrix: drop this test"
    mismatches = []
    for endpoint, roles in rest.items():
        method, template = endpoint.split(" ", 1)
        path = re.sub(r"\{number\}", "1", template)
        path = re.sub(r"\{[a-z_]+\}", "x", path)
        for caller, (caller_roles, groups) in {**CALLERS, **LATER_CALLERS}.items():
            headers = {"Authorization": ""} if caller == "anonymous" else bearer(token(f"{caller}-user", caller_roles, groups))
            status = client.open(path, method=method, headers=headers, json={}).status_code
            if caller == "anonymous":
                ok = status == 401
            elif set(caller_roles) & set(roles):
                ok = status not in (401, 403)
            else:
                ok = status == 403
            if not ok:
                mismatches.append((endpoint, caller, status))
    assert not mismatches, mismatches
