"""Scenario tests over HTTP: store a version's file (alone or with the upload), run it, read the runs."""
from __future__ import annotations

import io
import json
from typing import Any

from tests.conftest import FIXTURES

from .governance_helpers import as_user, version_url

SIMPLE_BPMN = (FIXTURES / "bpmn" / "simple_flow.bpmn").read_bytes()
SIMPLE_SCENARIOS = (FIXTURES / "scenarios" / "simple_flow.yaml").read_bytes()
SUITE = version_url("simple_flow", 1) + "/scenario-tests"


def _upload(client: Any) -> None:
    created = client.post("/api/v1/procedures", data=SIMPLE_BPMN, content_type="application/xml",
                          headers=as_user("dana"))
    assert created.status_code == 201, created.get_json()


def test_store_read_run_and_list(client: Any) -> None:
    _upload(client)
    assert client.get(SUITE).status_code == 404
    stored = client.put(SUITE, data=SIMPLE_SCENARIOS, content_type="application/yaml", headers=as_user("dana"))
    assert stored.status_code == 201, stored.get_json()
    body = stored.get_json()
    assert body["format"] == "yaml" and [s["name"] for s in body["scenarios"]][0] == "checked first time"
    again = client.put(SUITE, data=SIMPLE_SCENARIOS, content_type="application/yaml", headers=as_user("dana"))
    assert again.status_code == 200 and again.get_json()["id"] == body["id"]
    assert client.get(SUITE).get_json()["source"] == SIMPLE_SCENARIOS.decode()
    ran = client.post(SUITE + "/run", headers=as_user("olly"))
    assert ran.status_code == 201, ran.get_json()
    run = ran.get_json()
    assert run["status"] == "passed" and run["passed"] == 2 and run["coverage"]["uncovered_flows"] == []
    assert run["scenarios"][0]["audit"][0]["kind"] == "incident_started"
    assert client.get(ran.headers["Location"]).get_json()["id"] == run["id"]
    listed = client.get(SUITE + "/runs").get_json()["items"]
    assert [r["id"] for r in listed] == [run["id"]] and listed[0]["coverage_totals"]["flows_covered"] == 12
    assert client.get("/api/v1/incidents").get_json()["items"] == []


def test_json_and_multipart_with_the_version(client: Any) -> None:
    import yaml

    as_json = json.dumps(yaml.safe_load(SIMPLE_SCENARIOS)).encode()
    both = client.post("/api/v1/procedures", headers=as_user("dana"), content_type="multipart/form-data",
                       data={"file": (io.BytesIO(SIMPLE_BPMN), "simple_flow.bpmn"),
                             "scenarios": (io.BytesIO(as_json), "simple_flow.json")})
    assert both.status_code == 201, both.get_json()
    suite = client.get(SUITE).get_json()
    assert suite["format"] == "json" and len(suite["scenarios"]) == 2
    assert client.post(SUITE + "/run").get_json()["status"] == "passed"


def test_a_malformed_file_is_a_422_naming_the_line_and_stores_nothing(client: Any) -> None:
    _upload(client)
    bad = b"scenarios:\n  - name: a\n    steps:\n      - complete: Task_Log\n        dta: {}\n"
    refused = client.put(SUITE, data=bad, content_type="application/yaml", headers=as_user("dana"))
    assert refused.status_code == 422 and refused.headers["Content-Type"] == "application/problem+json"
    problem = refused.get_json()
    assert "line 5" in problem["detail"] and problem["errors"][0]["line"] == 5
    syntax = client.put(SUITE, data=b'{"scenarios": [', content_type="application/json", headers=as_user("dana"))
    assert syntax.status_code == 422 and syntax.get_json()["errors"][0]["line"] == 1
    assert client.get(SUITE).status_code == 404
    # with the upload: a bad scenario file refuses the version too
    refused_both = client.post("/api/v1/procedures", headers=as_user("dana"), content_type="multipart/form-data",
                               data={"file": (io.BytesIO(SIMPLE_BPMN + b"<!-- 2 -->"), "s.bpmn"),
                                     "scenarios": (io.BytesIO(bad), "s.yaml")})
    assert refused_both.status_code == 422
    assert [v["version"] for v in client.get("/api/v1/procedures/simple_flow").get_json()["items"]] == [1]
    assert client.put(SUITE, data=b"x", content_type="image/png").status_code == 415
    wrong_key = client.put(SUITE, data=b"procedure: other\nscenarios:\n  - name: a\n", content_type="application/yaml")
    assert wrong_key.status_code == 422


def test_running_without_a_suite_is_a_conflict(client: Any) -> None:
    _upload(client)
    assert client.post(SUITE + "/run").status_code == 409
    assert client.post(version_url("simple_flow", 9) + "/scenario-tests/run").status_code == 404


HAPPY_ONLY = SIMPLE_SCENARIOS.split(b"  - name: fixed after a failed check")[0]


def test_approval_waits_for_coverage_and_shows_the_reasons_for_flows_not_testable(client: Any, engine: Any) -> None:
    from .governance_helpers import objective, passing_fitness

    _upload(client)
    base = version_url("simple_flow", 1)
    client.put(f"{base}/declaration", headers=as_user("dana"),
               json={"objectives": [objective(client)], "peak_incidents_per_hour": 60, "peak_agents": 5})
    passing_fitness(engine, "simple_flow", 1)
    assert client.post(f"{base}/submit", headers=as_user("dana")).get_json()["status"] == "tested"

    def unmet() -> list[str]:
        refused = client.post(f"{base}/approve", json={}, headers=as_user("bob"))
        assert refused.status_code == 409
        return [u["code"] for u in refused.get_json()["unmet"]]

    assert unmet() == ["no_scenario_tests"]
    client.put(SUITE, data=HAPPY_ONLY, content_type="application/yaml", headers=as_user("dana"))
    assert unmet() == ["scenario_tests_not_run"]
    client.post(SUITE + "/run")
    assert unmet() == ["flows_not_covered"]
    message = client.get(f"{base}/governance").get_json()["approval_blockers"][0]["message"]
    assert "2 sequence flow(s): Flow_Fail, Flow_3" in message
    failing = HAPPY_ONLY.replace(b"end_event: End", b"end_event: Task_Fix")
    client.put(SUITE, data=failing, content_type="application/yaml", headers=as_user("dana"))
    client.post(SUITE + "/run")
    assert unmet() == ["scenario_tests_failed", "flows_not_covered"]  # a failing scenario covers nothing
    declared = HAPPY_ONLY + (b"not_testable:\n  - flow: Flow_Fail\n    reason: rework is drilled on paper\n"
                             b"  - flow: Flow_3\n    reason: rework is drilled on paper\n")
    client.put(SUITE, data=declared, content_type="application/yaml", headers=as_user("dana"))
    run = client.post(SUITE + "/run").get_json()
    state = client.get(f"{base}/governance").get_json()
    assert state["approval_blockers"] == []
    assert state["scenario_tests"]["run"]["id"] == run["id"]
    assert {n["flow"]: n["reason"] for n in state["scenario_tests"]["not_testable"]} == {
        "Flow_Fail": "rework is drilled on paper", "Flow_3": "rework is drilled on paper"}
    approved = client.post(f"{base}/approve", json={}, headers=as_user("bob")).get_json()
    assert approved["status"] == "approved"
    event = approved["events"][-1]["data"]
    assert event["scenario_run"] == run["id"] and len(event["not_testable"]) == 2
    assert client.put(SUITE, data=SIMPLE_SCENARIOS, content_type="application/yaml").status_code == 409


def test_the_report_page_lists_scenarios_and_marks_each_flow(client: Any) -> None:
    _upload(client)
    page = "/reports/procedures/simple_flow/versions/1/scenario-tests"
    assert "have not been run" in client.get(page).get_data(as_text=True)
    client.put(SUITE, data=HAPPY_ONLY, content_type="application/yaml", headers=as_user("dana"))
    run = client.post(SUITE + "/run").get_json()
    html = client.get(page).get_data(as_text=True)
    assert 'data-flow="Flow_Fail" data-mark="uncovered"' in html and 'data-flow="Flow_1" data-mark="covered"' in html
    assert 'data-code="flows_not_covered"' in html and "checked first time" in html
    assert client.get(f"{page}?run={run['id']}").status_code == 200
    assert client.get(f"{page}?run=nope").status_code == 404
    assert client.get(page, headers={"Authorization": ""}).status_code == 401


def test_times_inside_free_form_payloads_are_iso_8601_like_every_schema_field(client: Any) -> None:
    from datetime import datetime

    _upload(client)
    client.put(SUITE, data=SIMPLE_SCENARIOS, content_type="application/yaml", headers=as_user("dana"))
    ran = client.post(SUITE + "/run", headers=as_user("olly")).get_json()
    governance = client.get(version_url("simple_flow", 1) + "/governance", headers=as_user("olly")).get_json()
    stamped = governance["scenario_tests"]["run"]["created_at"]
    assert datetime.fromisoformat(stamped) == datetime.fromisoformat(ran["created_at"]), (stamped, ran["created_at"])
    assert datetime.fromisoformat(ran["scenarios"][0]["audit"][0]["at"]).tzinfo is not None
