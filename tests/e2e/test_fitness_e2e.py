"""End to end, with real processes: a Locust fitness test against a spawned engine server on an isolated
database (SQLite and PostgreSQL), and the whole governance flow from upload to a delivered briefing."""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, text

from engine.db.database import make_engine
from engine.db.tables import incidents, outbox
from engine.fitness.isolated import database_name
from engine.fitness.report import Thresholds, verdict
from engine.services import fitness, procedures
from engine.services.engine_app import IncidentEngine
from tests.api.governance_helpers import actor_client, as_user, passing_scenarios, version_url
from tests.conftest import BUNDLED, PG_ADMIN_URL, make_settings

from .webhook import deliver_pending, receiver

ENDPOINTS = {"GET /api/v1/tasks", "GET /api/v1/tasks/[id]", "POST /api/v1/incidents",
             "POST /api/v1/tasks/[id]/complete"}
# A shared 2-core machine runs these beside other tests; the default 500 ms p95 is checked in the report logic.
RELAXED_P95_MS = 5000


@pytest.fixture
def live(database_url: str) -> Iterator[IncidentEngine]:
    engine = IncidentEngine(make_settings(database_url, fitness_p95_ms=RELAXED_P95_MS))
    yield engine
    engine.db.dispose()


def _fitness_databases() -> list[str]:
    admin = make_engine(PG_ADMIN_URL)
    try:
        with admin.connect() as conn:
            return list(conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE 'fitness_%'")).scalars())
    finally:
        admin.dispose()


def test_a_real_locust_run_against_an_isolated_server_stores_a_full_report(live: IncidentEngine) -> None:
    row, _ = procedures.deploy(live, (BUNDLED / "major_incident.bpmn").read_bytes(), actor="ann")
    queued = fitness.request(live, "major_incident", row["version"], incidents_per_hour=1800, agents=3,
                             duration_s=8, actor="ops")
    done = fitness.run(live, queued["id"])

    assert done["status"] in ("passed", "failed"), done["error"]
    report = done["report"]
    assert report["passed"] is (done["status"] == "passed") and report["passed"] is (not report["reasons"])
    assert report["reasons"] == verdict(report, Thresholds(0, RELAXED_P95_MS, True))
    assert report["incidents"]["started"] >= 2
    assert report["incidents"]["started"] == report["locust"]["started"]
    assert report["incidents"]["completed"] + report["incidents"]["unsettled"] \
        + report["incidents"]["waiting_on_timer"] == report["incidents"]["started"]
    assert report["tasks"]["completed"] > 0 and report["tasks"]["completions_per_second"] > 0
    assert ENDPOINTS <= {e["name"] for e in report["endpoints"]}
    for endpoint in report["endpoints"]:
        assert {"p50_ms", "p95_ms", "p99_ms", "requests", "failures"} <= endpoint.keys()
    assert report["aggregated"]["requests"] > 0 and isinstance(report["failures"], list)
    assert report["server"]["peak_rss_bytes"] > 20 * 2**20
    assert report["procedure"]["sha256"] == row["sha256"]
    assert report["parameters"]["database"] == live.db.dialect.name
    assert fitness.raw_csv(live, "major_incident", 1, done["id"], "stats").startswith("Type,Name,Request Count")
    assert fitness.raw_csv(live, "major_incident", 1, done["id"], "history")
    assert (done["started_at"], done["finished_at"]) != (None, None)
    with live.uow(write=False) as uow:  # the test incidents stayed in the isolated database
        assert uow.conn.execute(select(func.count()).select_from(incidents)).scalar() == 0
    if live.db.dialect.name == "postgresql":  # and that database is gone
        assert database_name(done["id"]) not in _fitness_databases()


def test_a_run_whose_server_cannot_start_ends_as_an_error(live: IncidentEngine, monkeypatch: Any) -> None:
    row, _ = procedures.deploy(live, (BUNDLED / "customer_complaint.bpmn").read_bytes(), actor="ann")
    queued = fitness.request(live, row["key"], 1, incidents_per_hour=60, agents=1, duration_s=5)
    monkeypatch.setattr("engine.fitness.server.ServerProcess._wait_ready",
                        lambda self: (_ for _ in ()).throw(TimeoutError("server never answered")))
    done = fitness.run(live, queued["id"])
    assert (done["status"], done["report"]) == ("error", None)
    assert "server never answered" in done["error"]
    assert fitness.run(live, queued["id"])["status"] == "error"  # a finished test is left alone


def _wait_for(api: Any, url: str, timeout: float = 180.0) -> tuple[dict[str, Any], list[str]]:
    phases: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = api.get(url).get_json()
        phases.append((body.get("progress") or {}).get("phase", ""))
        if body["status"] not in ("queued", "running"):
            return body, phases
        time.sleep(0.5)
    raise AssertionError(f"the fitness test did not finish in {timeout} s: {phases[-5:]}")


# The whole flow on SQLite only (it is the slowest test); the PostgreSQL run of Locust is covered above.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_upload_review_fitness_test_approve_activate_and_brief(live: IncidentEngine) -> None:
    api = actor_client(live)
    ann, bob, ops = as_user("ann"), as_user("bob"), as_user("ops")
    strategy = api.post("/api/v1/strategies", json={"name": "Resilient service", "aim": "Keep customers served"},
                        headers=ann).get_json()
    objective = api.post("/api/v1/objectives", json={"strategy_id": strategy["id"], "name": "Restore fast",
                                                     "description": "Major incidents resolved within 4 hours"},
                         headers=ann).get_json()
    criterion = api.post("/api/v1/criteria", headers=ann, json={  # agreed before the procedure exists
        "objective_id": objective["id"], "name": "P1 resolved in 4 h", "metric": "time_to_task", "statistic": "p95",
        "comparator": "at_most", "target": "PT4H", "params": {"task": "Task_Resolve"}, "filter": {"priority": "P1"},
        "procedure_key": "major_incident"})
    assert criterion.status_code == 201
    uploaded = api.post("/api/v1/procedures", data=(BUNDLED / "major_incident.bpmn").read_bytes(),
                        content_type="application/xml", headers=ann).get_json()
    base = version_url("major_incident", uploaded["version"])
    assert api.put(f"{base}/declaration", headers=ann, json={
        "objectives": [objective["id"]], "peak_incidents_per_hour": 1800, "peak_agents": 3}).status_code == 200

    comment = api.post(f"{base}/comments", headers=bob, json={
        "body": "Can verification loop forever?", "element_id": "Gateway_TriageCheck"}).get_json()
    assert api.post(f"{base}/submit", headers=ann).get_json()["status"] == "in_review"
    started = api.post(f"{base}/fitness-tests", json={"duration": "PT8S"}, headers=ops)
    assert started.status_code == 202
    report_body, phases = _wait_for(api, started.headers["Location"])
    assert report_body["status"] == "passed", (report_body["error"], (report_body["report"] or {}).get("reasons"))
    assert "done" in phases and len(set(phases)) >= 2
    assert (report_body["incidents_per_hour"], report_body["agents"]) == (1800, 3)  # the declared peak

    passing_scenarios(live, "major_incident", uploaded["version"])  # the bundled scenarios: every flow
    state = api.get(f"{base}/governance").get_json()
    assert state["status"] == "tested"  # marked by the passing test at the declared peak
    assert [b["code"] for b in state["approval_blockers"]] == ["comments_open"]
    refused = api.post(f"{base}/approve", json={}, headers=bob)
    assert refused.status_code == 409 and [u["code"] for u in refused.get_json()["unmet"]] == ["comments_open"]
    api.post(f"{base}/comments/{comment['id']}/resolve", json={"reply": "No: the loop cap stops it."}, headers=ann)
    assert api.post(f"{base}/approve", json={}, headers=ann).status_code == 403  # the uploader
    assert api.post(f"{base}/approve", json={}, headers=bob).get_json()["status"] == "approved"
    assert api.post(f"{base}/activate", headers=as_user("admin")).get_json()["status"] == "active"

    with receiver() as (url, received):
        assert deliver_pending(live, url) == 4
    assert sorted(r["path"] for r in received) == ["/briefing.communications", "/briefing.incident-managers",
                                                   "/briefing.resolvers", "/briefing.service-desk"]
    sent = received[0]["json"]["briefing"]
    assert sent["procedure"]["purpose"].startswith("Major incident")
    assert sent["objectives"][0]["criteria"][0]["text"].startswith("95th percentile of time from incident start")
    assert [c["check"] for c in sent["changes"]["checks"]["added"]] == ["triage_complete"]
    assert [t["id"] for t in sent["changes"]["timers"]["added"]] == ["BoundaryEvent_DiagnosisSla"]
    briefing = api.get("/api/v1/procedures/major_incident/briefing").get_json()
    assert {k: v for k, v in briefing.items() if k != "markdown"} == sent
    assert briefing["markdown"] == received[0]["json"]["markdown"]
    with live.uow(write=False) as uow:
        assert set(uow.conn.execute(select(outbox.c.status)).scalars()) == {"delivered"}
    events = [(e["action"], e["actor"]) for e in state["events"]]
    assert events == [("declare", "ann"), ("submit", "ann"), ("mark_tested", "ops"), ("scenarios_uploaded", "ann")]
