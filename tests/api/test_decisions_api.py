"""Business rule tasks evaluate deployed DMN decisions (our evaluator), audited; designers evaluate tables."""
from __future__ import annotations

import io
from typing import Any

import pytest

from .helpers import FIXTURES

DEPLOY = FIXTURES.parent / "deployments"
BPMN, DMN = DEPLOY / "triage_decision.bpmn", DEPLOY / "priority.dmn"


def _deploy(client: Any, *files: tuple[str, bytes]) -> Any:
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post("/api/v1/deployments", data=data, content_type="multipart/form-data")


def _both(client: Any, bpmn: bytes | None = None, dmn: bytes | None = None) -> None:
    response = _deploy(client, (BPMN.name, bpmn or BPMN.read_bytes()), (DMN.name, dmn or DMN.read_bytes()))
    assert response.status_code == 201, response.get_json()


def _start(client: Any, **data: Any) -> dict[str, Any]:
    response = client.post("/api/v1/incidents", json={"procedure": "triage_decision", "data": data, "test": True})
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(("data", "priority", "task"), [
    ({"customers_affected": 5000, "vip": False}, "P1", "Td_Major"),
    ({"customers_affected": 500, "vip": True}, "P2", "Td_Normal"),
    ({"customers_affected": 3, "vip": True}, "P3", "Td_Normal"),
])
def test_the_decision_routes_the_incident(client, data: dict[str, Any], priority: str, task: str) -> None:  # type: ignore[no-untyped-def]
    _both(client)
    incident = _start(client, **data)
    assert [t["element_id"] for t in incident["open_tasks"]] == [task]
    trail = client.get(f"/api/v1/incidents/{incident['id']}/audit?test=true").get_json()["items"]
    evaluated = [e for e in trail if e["kind"] == "decision_evaluated"]
    assert len(evaluated) == 1 and evaluated[0]["element_id"] == "Td_Decide"
    record = evaluated[0]["data"]
    assert (record["decision"], record["version"], record["outputs"]) == ("priority", 1, [{"priority": priority}])
    assert record["inputs"]["VIP"] == data["vip"] and record["required"][0]["decision"] == "impact_band"
    assert record["matched_rules"] and record["result_variable"] == "priority"
    kinds = [e["kind"] for e in trail]
    assert kinds.index("decision_evaluated") < max(i for i, e in enumerate(trail) if e["element_id"] == "Td_Gateway")


def test_a_decision_with_no_valid_answer_puts_the_incident_in_error(client) -> None:  # type: ignore[no-untyped-def]
    unique = DMN.read_bytes().replace(b'hitPolicy="FIRST"', b'hitPolicy="UNIQUE"')
    _both(client, dmn=unique)
    incident = _start(client, customers_affected=5000, vip=True)  # rules p1 and p3 both match
    assert incident["status"] == "error" and "Rule_p1" in incident["error"]


def test_a_missing_decision_is_refused_at_deploy(client) -> None:  # type: ignore[no-untyped-def]
    response = _deploy(client, (BPMN.name, BPMN.read_bytes()))
    assert response.status_code == 422
    entry = response.get_json()["errors"][0]
    assert (entry["rule"], entry["element_id"], entry["file"]) == ("reference.unresolved", "Td_Decide", BPMN.name)


def test_an_escaping_cell_is_refused_at_deploy_naming_decision_rule_and_cell(client) -> None:  # type: ignore[no-untyped-def]
    evil = DMN.read_bytes().replace(b'<text>"P2"</text>', b'<text>__import__("os").system("id")</text>')
    response = _deploy(client, (DMN.name, evil))
    assert response.status_code == 422
    entry = response.get_json()["errors"][0]
    assert entry["file"] == DMN.name and entry["element_id"] == "priority"
    assert "rule Rule_p2, output entry 1" in entry["message"] and entry["rule"] == "dmn.feel"
    assert client.get("/api/v1/decisions").get_json()["items"] == []


def test_designers_evaluate_a_deployed_decision(client) -> None:  # type: ignore[no-untyped-def]
    _both(client)
    body = client.post("/api/v1/decisions/priority/evaluate",
                       json={"variables": {"customers_affected": 150, "vip": True}}).get_json()
    assert (body["outputs"], body["matched_rules"], body["version"]) == ([{"priority": "P2"}], ["Rule_p2"], 1)
    assert body["required"][0]["outputs"] == [{"impact_band": "medium"}]
    listed = {d["key"]: d for d in client.get("/api/v1/decisions").get_json()["items"]}
    assert set(listed) == {"priority", "impact_band"} and listed["priority"]["hit_policy"] == "FIRST"
    assert client.post("/api/v1/decisions/nope/evaluate", json={}).status_code == 404
    assert client.post("/api/v1/decisions/priority/evaluate", json={"version": 9}).status_code == 404


def test_a_business_rule_task_without_a_decision_ref_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    bad = BPMN.read_bytes().replace(b'camunda:decisionRef="priority"', b'camunda:class="org.acme.Rules"')
    response = client.post("/api/v1/procedures", data=bad, content_type="application/xml")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["rule"] == "unsupported.java"
