"""A scenario of a procedure whose call activity starts another file's process: the called versions come
into the scenario's isolated database, and the scenario works the child incident's tasks too."""
from __future__ import annotations

from sqlalchemy import func, select

from engine.db.tables import incidents
from engine.services import deployments, scenario_tests
from engine.services.engine_app import IncidentEngine
from tests.conftest import FIXTURES

DEPLOY = FIXTURES / "deployments"
SCENARIOS = b"""
scenarios:
  - name: the regulator is notified, then the breach closed
    start: {summary: laptop lost, severity: 3, ref: B-1}
    steps:
      - expect: {open: [Nr_Notify]}
      - complete: Nr_Notify
        data: {regulator_ref: ICO-9}
        expect: {open: [Br_Close], variables: {regulator_ref: ICO-9}}
      - complete: Br_Close
    expect: {status: completed, end_event: Br_End, path: [Br_Call, Br_Close]}
  - name: an element of no process the procedure reaches
    start: {summary: laptop lost, severity: 3, ref: B-2}
    steps:
      - complete: Nowhere_Task
"""


def test_a_scenario_works_the_child_incident_of_a_call_activity(engine: IncidentEngine) -> None:
    deployed, _ = deployments.deploy_files(engine, [(p.name, p.read_bytes()) for p in
                                                    (DEPLOY / "breach.bpmn", DEPLOY / "notify_regulator.bpmn")],
                                           name="breach", actor="dana")
    parent = next(r for r in deployed["resources"] if r["key"] == "breach")
    scenario_tests.upload(engine, "breach", parent["version"], SCENARIOS, actor="dana")
    run = scenario_tests.run(engine, "breach", parent["version"], actor="dana")
    found = {s["name"]: s for s in run["scenarios"]}
    assert found["the regulator is notified, then the breach closed"]["failure"] is None, run
    nowhere = found["an element of no process the procedure reaches"]["failure"]
    assert nowhere["message"] == "the procedure has no element Nowhere_Task"
    assert run["coverage"]["uncovered_flows"] == []
    with engine.uow(write=False) as uow:
        assert uow.conn.execute(select(func.count()).select_from(incidents)).scalar() == 0
