"""Procedure governance through the HTTP API, on SQLite and PostgreSQL: strategy, declaration, review,
the lifecycle, approval refusals, activation with its briefing, and which version new incidents take."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from engine.db.tables import outbox, procedures
from engine.services.engine_app import IncidentEngine

from .governance_helpers import (
    actor_client,
    as_user,
    objective,
    passing_fitness,
    passing_scenarios,
    scenario_file,
    version_url,
)
from .helpers import FIXTURES, complete, open_task, start

SIMPLE = (FIXTURES / "simple_flow.bpmn").read_bytes()
ANN, BOB = as_user("ann"), as_user("bob")


@pytest.fixture
def api(engine: IncidentEngine) -> Any:
    return actor_client(engine)


def upload(api: Any, data: bytes = SIMPLE, who: dict[str, str] = ANN) -> dict[str, Any]:
    response = api.post("/api/v1/procedures", data=data, content_type="application/xml", headers=who)
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def declare(api: Any, version: int, objectives: list[str], peak: int = 60, agents: int = 5) -> Any:
    return api.put(f"{version_url('simple_flow', version)}/declaration", headers=ANN,
                   json={"objectives": objectives, "peak_incidents_per_hour": peak, "peak_agents": agents})


def approved(api: Any, engine: IncidentEngine, data: bytes = SIMPLE, scenarios: bytes | None = None) -> int:
    """Upload, declare, test (stand-in fitness evidence, real scenario tests), submit and approve a version."""
    version = upload(api, data)["version"]
    assert declare(api, version, [objective(api)]).status_code == 200
    passing_fitness(engine, "simple_flow", version)
    passing_scenarios(engine, "simple_flow", version, source=scenarios)
    submitted = api.post(f"{version_url('simple_flow', version)}/submit", headers=ANN).get_json()
    assert submitted["status"] == "tested", submitted  # evidence already there: marked tested at once
    assert api.post(f"{version_url('simple_flow', version)}/approve", json={}, headers=BOB).status_code == 200
    return int(version)


def test_strategies_objectives_and_criteria_are_created_read_and_listed(api: Any) -> None:
    strategy = api.post("/api/v1/strategies", json={"name": "Customer first", "aim": "Fix what hurts customers"},
                        headers=as_user("dee"))
    assert strategy.status_code == 201
    sid = strategy.get_json()["id"]
    assert strategy.get_json()["created_by"] == "dee"
    objective_id = api.post("/api/v1/objectives", json={"strategy_id": sid, "name": "Fast P1"}).get_json()["id"]
    criterion = api.post("/api/v1/criteria", json={
        "objective_id": objective_id, "name": "P1 resolved fast", "metric": "time_to_task", "statistic": "p95",
        "comparator": "at_most", "target": "PT15M", "params": {"task": "Task_Close"}, "filter": {"priority": "P1"}})
    assert criterion.status_code == 201, criterion.get_json()
    assert criterion.get_json()["text"].startswith("95th percentile of time from incident start to a task completed")
    api.post("/api/v1/criteria", json={"objective_id": objective_id, "name": "Checks pass",
                                       "metric": "check_first_time_pass_rate", "statistic": "share",
                                       "comparator": "at_least", "target": 0.9, "params": {"check": "checked"}})

    assert [o["name"] for o in api.get(f"/api/v1/strategies/{sid}").get_json()["objectives"]] == ["Fast P1"]
    assert len(api.get(f"/api/v1/objectives/{objective_id}").get_json()["criteria"]) == 2
    assert len(api.get(f"/api/v1/criteria?objective_id={objective_id}").get_json()["items"]) == 2
    assert api.get(f"/api/v1/criteria/{criterion.get_json()['id']}").get_json()["target"] == "PT15M"
    assert [o["id"] for o in api.get(f"/api/v1/objectives?strategy_id={sid}").get_json()["items"]] == [objective_id]
    api.post("/api/v1/strategies", json={"name": "Second"})
    first = api.get("/api/v1/strategies?limit=1").get_json()
    rest = api.get(f"/api/v1/strategies?limit=1&cursor={first['next_cursor']}").get_json()
    assert [first["items"][0]["name"], rest["items"][0]["name"]] == ["Customer first", "Second"]
    metrics = {m["name"] for m in api.get("/api/v1/criteria/metrics").get_json()["items"]}
    assert {"time_to_task", "check_first_time_pass_rate", "sla_breach_share"} <= metrics
    assert api.get("/api/v1/strategies/nope").status_code == 404


def test_criteria_and_objectives_that_do_not_fit_are_refused_field_by_field(api: Any) -> None:
    assert api.post("/api/v1/objectives", json={"strategy_id": "nope", "name": "x"}).status_code == 422
    oid = objective(api)
    bad = api.post("/api/v1/criteria", json={"objective_id": oid, "name": "x", "metric": "time_to_task",
                                             "statistic": "share", "comparator": "at_most", "target": 0.5})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"statistic", "target", "params.task"}
    upload(api)
    unknown_task = api.post("/api/v1/criteria", json={
        "objective_id": oid, "name": "x", "metric": "time_to_task", "statistic": "p95", "comparator": "at_most",
        "target": "PT1H", "params": {"task": "Task_Nope"}, "procedure_key": "simple_flow"})
    assert unknown_task.status_code == 422
    assert unknown_task.get_json()["errors"][0]["field"] == "params.task"


def test_the_declaration_is_set_in_draft_only(api: Any) -> None:
    version = upload(api)["version"]
    oid = objective(api)
    declared = declare(api, version, [oid], peak=120, agents=8)
    assert declared.status_code == 200
    assert declared.get_json() | {"updated_at": None} == {
        "key": "simple_flow", "version": 1, "status": "draft", "objectives": [oid], "peak_incidents_per_hour": 120,
        "peak_agents": 8, "updated_by": "ann", "updated_at": None}
    partial = api.patch(f"{version_url('simple_flow', 1)}/declaration", json={"peak_agents": 9}).get_json()
    assert (partial["peak_incidents_per_hour"], partial["peak_agents"], partial["objectives"]) == (120, 9, [oid])
    unknown = declare(api, version, ["no-such-objective"])
    assert unknown.status_code == 422
    api.post(f"{version_url('simple_flow', 1)}/submit", headers=ANN)
    late = declare(api, version, [oid])
    assert late.status_code == 409
    assert late.get_json()["current_status"] == "in_review" and late.get_json()["allowed"] == ["reject"]


def test_comments_on_the_version_or_an_element_are_listed_and_resolved(api: Any) -> None:
    upload(api)
    url = f"{version_url('simple_flow', 1)}/comments"
    whole = api.post(url, json={"body": "Who owns step 3?"}, headers=BOB)
    assert whole.status_code == 201 and whole.get_json()["author"] == "bob"
    on_gateway = api.post(url, json={"body": "Should a supervisor sign this off?", "element_id": "Gateway_Check"})
    assert on_gateway.get_json()["element_id"] == "Gateway_Check"
    assert api.post(url, json={"body": "x", "element_id": "Task_Nope"}).status_code == 422
    assert api.post(url, json={}).status_code == 422
    assert len(api.get(url).get_json()["items"]) == 2
    resolved = api.post(f"{url}/{whole.get_json()['id']}/resolve", json={"reply": "The service desk."}, headers=ANN)
    assert resolved.status_code == 200
    assert resolved.get_json() | {"resolved_at": None, "created_at": None} == whole.get_json() | {
        "status": "resolved", "reply": "The service desk.", "resolved_by": "ann", "resolved_at": None,
        "created_at": None}
    assert api.post(f"{url}/{whole.get_json()['id']}/resolve", json={"reply": "again"}).status_code == 409
    assert api.post(f"{url}/nope/resolve", json={"reply": "x"}).status_code == 404
    assert [c["element_id"] for c in api.get(f"{url}?status=open").get_json()["items"]] == ["Gateway_Check"]


def test_wrong_transitions_are_409_naming_the_allowed_ones_and_every_transition_is_audited(api: Any) -> None:
    upload(api)
    base = version_url("simple_flow", 1)
    wrong = api.post(f"{base}/activate", headers=BOB)
    assert wrong.status_code == 409
    assert wrong.headers["Content-Type"] == "application/problem+json"
    assert wrong.get_json()["allowed"] == ["submit"] and wrong.get_json()["current_status"] == "draft"
    assert api.post(f"{base}/retire").get_json()["allowed"] == ["submit"]
    assert api.post(f"{base}/submit", headers=ANN).get_json()["status"] == "in_review"
    assert api.post(f"{base}/submit").get_json()["allowed"] == ["reject"]
    assert api.post(f"{base}/reject", json={}).status_code == 422
    rejected = api.post(f"{base}/reject", json={"reason": "use the new triage form"}, headers=BOB).get_json()
    assert rejected["status"] == "rejected" and rejected["allowed_actions"] == []
    final = api.post(f"{base}/submit")
    assert final.status_code == 409 and final.get_json()["allowed"] == []
    events = api.get(f"{base}/governance").get_json()["events"]
    assert [(e["action"], e["from_status"], e["to_status"], e["actor"]) for e in events] == [
        ("submit", "draft", "in_review", "ann"), ("reject", "in_review", "rejected", "bob")]
    assert events[1]["data"] == {"reason": "use the new triage form"}
    assert api.post(f"{version_url('simple_flow', 7)}/submit").status_code == 404


def test_approval_is_refused_listing_every_unmet_condition(api: Any, engine: IncidentEngine) -> None:
    upload(api)
    base = version_url("simple_flow", 1)
    api.post(f"{base}/comments", json={"body": "Is the fix loop bounded?"}, headers=BOB)
    with engine.uow() as uow:  # a lint error (issue #4 refuses such uploads; the rule still guards approval)
        summary = uow.conn.execute(select(procedures.c.summary)).scalar_one()
        uow.conn.execute(update(procedures).values(summary={**summary, "lint": [{"severity": "error", "message": "x"}]}))
        uow.commit()
    api.post(f"{base}/submit", headers=ANN)
    refused = api.post(f"{base}/approve", json={}, headers=BOB)
    assert refused.status_code == 409
    body = refused.get_json()
    assert [u["code"] for u in body["unmet"]] == ["lint_errors", "comments_open", "no_objective", "no_peak_volume",
                                                  "no_scenario_tests"]
    assert all(u["message"] for u in body["unmet"]) and "cannot be approved yet" in body["detail"]
    blockers = api.get(f"{base}/governance").get_json()["approval_blockers"]
    assert [b["code"] for b in blockers] == [u["code"] for u in body["unmet"]]


def test_approval_needs_a_passing_fitness_test_of_these_bytes_at_the_declared_peak(api: Any,
                                                                                    engine: IncidentEngine) -> None:
    upload(api)
    base = version_url("simple_flow", 1)
    declare(api, 1, [objective(api)], peak=60, agents=5)
    passing_scenarios(engine, "simple_flow", 1)
    api.post(f"{base}/submit", headers=ANN)

    def unmet() -> list[str]:
        response = api.post(f"{base}/approve", json={}, headers=BOB)
        assert response.status_code == 409
        return [u["code"] for u in response.get_json()["unmet"]]

    assert unmet() == ["no_passing_fitness_test"]
    passing_fitness(engine, "simple_flow", 1, status="failed")
    passing_fitness(engine, "simple_flow", 1, sha256="0" * 64)
    assert unmet() == ["no_passing_fitness_test"]
    passing_fitness(engine, "simple_flow", 1, incidents_per_hour=30)
    assert unmet() == ["fitness_below_peak"]


def test_nobody_approves_their_own_version_and_an_approval_has_a_name(api: Any, engine: IncidentEngine) -> None:
    upload(api)
    base = version_url("simple_flow", 1)
    declare(api, 1, [objective(api)])
    passing_fitness(engine, "simple_flow", 1)
    run = passing_scenarios(engine, "simple_flow", 1)
    assert api.post(f"{base}/submit", headers=ANN).get_json()["status"] == "tested"
    own = api.post(f"{base}/approve", json={}, headers=ANN)
    assert own.status_code == 403 and "uploader" in own.get_json()["detail"]
    assert api.post(f"{base}/approve", json={}, headers={"Authorization": ""}).status_code == 401
    done = api.post(f"{base}/approve", json={"note": "fine"}, headers=BOB).get_json()
    assert done["status"] == "approved" and done["allowed_actions"] == ["activate"]
    approve_event = done["events"][-1]
    assert (approve_event["action"], approve_event["actor"], approve_event["data"]["note"]) == ("approve", "bob", "fine")
    assert len(approve_event["data"]["fitness_tests"]) == 1
    assert approve_event["data"]["scenario_run"] == run["id"]


def test_activation_briefs_every_lane_and_group_and_the_briefing_reads_as_json_and_markdown(
        api: Any, engine: IncidentEngine) -> None:
    approved(api, engine)
    assert api.get("/api/v1/procedures/simple_flow/briefing").status_code == 404
    active = api.post(f"{version_url('simple_flow', 1)}/activate", headers=BOB)
    assert active.status_code == 200
    assert active.get_json()["status"] == "active"
    with engine.uow(write=False) as uow:
        rows = [dict(r) for r in uow.conn.execute(select(outbox).order_by(outbox.c.topic)).mappings()]
    assert [r["topic"] for r in rows] == ["briefing.supervisors", "briefing.team-a", "briefing.team-b"]
    assert {r["incident_id"] for r in rows} == {"procedure:simple_flow"} and {r["status"] for r in rows} == {"pending"}
    payload = rows[1]["payload"]
    assert payload["group"] == "team-a" and payload["briefing"]["procedure"]["version"] == 1
    assert payload["markdown"].startswith("# Simple flow — version 1 is now live")

    briefing = api.get("/api/v1/procedures/simple_flow/briefing").get_json()
    assert briefing["audience"] == ["team-a", "team-b", "supervisors"]
    assert briefing["objectives"][0]["name"] == "Restore service quickly"
    assert briefing["objectives"][0]["strategy"]["name"] == "Resilient contact centre"
    assert briefing["changes"]["first_version"] is True
    assert [c["check"] for c in briefing["changes"]["checks"]["added"]] == ["checked"]
    assert briefing["activated_by"] == "bob" and briefing["markdown"] == payload["markdown"]
    markdown = api.get("/api/v1/procedures/simple_flow/briefing?format=markdown")
    assert markdown.mimetype == "text/markdown" and markdown.get_data(as_text=True) == payload["markdown"]
    by_accept = api.get("/api/v1/procedures/simple_flow/briefing", headers={"Accept": "text/markdown"})
    assert by_accept.mimetype == "text/markdown"
    assert api.get("/api/v1/procedures/simple_flow/briefing", headers={"Accept": "*/*"}).is_json


def test_activating_a_new_version_retires_the_old_one_and_new_incidents_take_it(api: Any,
                                                                                engine: IncidentEngine) -> None:
    approved(api, engine)
    api.post(f"{version_url('simple_flow', 1)}/activate", headers=BOB)
    old = start(api, "simple_flow", {"caller": "C-1"}).get_json()
    assert old["version"] == 1

    changed = SIMPLE.replace(b'name="Branch A"', b'name="Branch A (checked)"').replace(
        b'<bpmn:userTask id="Task_Close" name="Close" />',
        b'<bpmn:userTask id="Task_Close" name="Close"><bpmn:extensionElements><camunda:formData>'
        b'<camunda:formField id="closure_code" label="Closure code" type="string">'
        b'<camunda:validation><camunda:constraint name="required" /></camunda:validation></camunda:formField>'
        b'</camunda:formData></bpmn:extensionElements></bpmn:userTask>')
    scenarios = scenario_file("simple_flow").read_bytes().replace(  # v2's scenarios give the new field
        b"- complete: Task_Close\n", b"- complete: Task_Close\n        data: {closure_code: C1}\n")
    approved(api, engine, changed, scenarios)
    upload(api, changed.replace(b"Simple flow", b"Simple flow v3"))  # a newer draft does not take over
    assert start(api, "simple_flow").get_json()["version"] == 1  # v2 approved but not active yet
    activated = api.post(f"{version_url('simple_flow', 2)}/activate", headers=as_user("admin")).get_json()
    assert activated["status"] == "active"
    assert api.get(f"{version_url('simple_flow', 1)}/governance").get_json()["status"] == "retired"
    assert [v["status"] for v in api.get("/api/v1/procedures/simple_flow").get_json()["items"]] == [
        "retired", "active", "draft"]
    retire_event = api.get(f"{version_url('simple_flow', 1)}/governance").get_json()["events"][-1]
    assert (retire_event["action"], retire_event["data"]) == ("retire", {"replaced_by": 2})

    changes = api.get("/api/v1/procedures/simple_flow/briefing").get_json()["changes"]
    assert changes["first_version"] is False
    assert [(t["id"], t["changes"]) for t in changes["tasks"]["changed"]] == [
        ("Task_A", ["name changed from 'Branch A' to 'Branch A (checked)'"]),
        ("Task_Close", ["form field closure_code added (required)"])]
    assert api.get("/api/v1/procedures/simple_flow/briefing?version=1").get_json()["previous_version"] is None

    new = start(api, "simple_flow").get_json()
    assert new["version"] == 2
    assert start(api, "simple_flow", version=1).get_json()["version"] == 1  # explicit version: tests and ops
    incident = complete(api, open_task(old, "Task_Log"), {"summary": "x", "ok": True}).get_json()
    incident = complete(api, open_task(incident, "Task_A"), {}).get_json()
    incident = complete(api, open_task(incident, "Task_B"), {}).get_json()
    finished = complete(api, open_task(incident, "Task_Close"), {}).get_json()
    assert (finished["status"], finished["version"]) == ("completed", 1)  # the old form: no closure_code needed
    close_v2 = api.get("/api/v1/procedures/simple_flow/versions/2").get_json()["user_tasks"][-1]
    assert [f["id"] for f in close_v2["form"]] == ["closure_code"]


def test_only_one_version_of_a_key_is_ever_active(api: Any, engine: IncidentEngine) -> None:
    from sqlalchemy.exc import IntegrityError

    upload(api)
    upload(api, SIMPLE.replace(b"Simple flow", b"Simple flow 2"))
    with engine.uow() as uow, pytest.raises(IntegrityError):
        uow.conn.execute(update(procedures).values(status="active"))
        uow.commit()


def test_a_fitness_test_is_queued_with_the_declared_peak_and_read_back(api: Any, engine: IncidentEngine) -> None:
    queued: list[str] = []
    api.application.extensions["fitness_dispatch"] = queued.append
    upload(api)
    url = f"{version_url('simple_flow', 1)}/fitness-tests"
    missing = api.post(url, json={})
    assert missing.status_code == 422
    assert {e["field"] for e in missing.get_json()["errors"]} == {"incidents_per_hour", "agents"}
    declare(api, 1, [], peak=90, agents=4)
    assert api.post(url, json={"duration": 2}).status_code == 422
    created = api.post(url, json={"duration": "PT30S"}, headers=as_user("ops"))
    assert created.status_code == 202
    test = created.get_json()
    assert created.headers["Location"].endswith(f"/fitness-tests/{test['id']}")
    assert queued == [test["id"]]
    assert (test["incidents_per_hour"], test["agents"], test["duration_s"], test["status"]) == (90, 4, 30, "queued")
    assert test["created_by"] == "ops" and test["progress"] == {"phase": "queued"}
    again = api.post(url, json={"incidents_per_hour": 10, "agents": 1})
    assert again.status_code == 409 and again.get_json()["fitness_test"] == test["id"]
    assert api.get(url).get_json()["items"][0]["id"] == test["id"]
    assert api.get(f"{url}/{test['id']}").get_json()["sha256"] == test["sha256"]
    assert api.get(f"{url}/{test['id']}/csv/stats").status_code == 404
    assert api.get(f"{url}/nope").status_code == 404
