"""What-if simulations over HTTP: request (202 with a Location), progress and prediction, 422, evidence."""
from __future__ import annotations

from typing import Any

from engine.services import simulations
from tests.conftest import FIXTURES

from .governance_helpers import as_user, version_url

SIMPLE = (FIXTURES / "bpmn" / "simple_flow.bpmn").read_bytes()
RUNS = version_url("simple_flow", 1) + "/simulations"
DECLARED = {"arrivals_per_hour": [1] * 24, "start_data": [{"priority": "P1"}],
            "tasks": {t: {"distribution": "lognormal", "mean": "PT6M", "sd": "PT3M"}
                      for t in ("Task_Log", "Task_Fix", "Task_A", "Task_B", "Task_Close")},
            "gateways": {"Gateway_Check": {"Flow_Pass": 0.9, "Flow_Fail": 0.1}}}


def test_request_follow_and_attach(client: Any, engine: Any) -> None:
    assert client.post("/api/v1/procedures", data=SIMPLE, content_type="application/xml",
                       headers=as_user("dana")).status_code == 201
    missing = client.post(RUNS, json={"agents": {"team-a": 2, "team-b": 1}})
    assert missing.status_code == 422 and missing.headers["Content-Type"] == "application/problem+json"
    assert "declared.arrivals_per_hour" in {e["field"] for e in missing.get_json()["errors"]}
    assert client.post(RUNS, json={}).status_code == 422  # agents are required
    queued = client.post(RUNS, json={"agents": {"team-a": 2, "team-b": 1}, "days": 3, "replications": 2,
                                     "declared": DECLARED}, headers=as_user("olly"))
    assert queued.status_code == 202, queued.get_json()
    body = queued.get_json()
    assert body["status"] == "queued" and body["created_by"] == "olly"
    simulations.run(engine, body["id"])  # what the worker does
    done = client.get(queued.headers["Location"]).get_json()
    assert done["status"] == "done" and done["progress"]["phase"] == "done"
    assert {lane["lane"] for lane in done["report"]["lanes"]} == {"team-a", "team-b"}
    attached = client.post(f"{RUNS}/{body['id']}/attach", headers=as_user("dana"))
    assert attached.status_code == 200 and attached.get_json()["attached"] is True
    governance = client.get(version_url("simple_flow", 1) + "/governance").get_json()
    assert [s["id"] for s in governance["simulations"]] == [body["id"]]
    assert client.get(f"{RUNS}/nope").status_code == 404
    assert [s["id"] for s in client.get(RUNS).get_json()["items"]] == [body["id"]]
