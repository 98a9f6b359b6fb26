"""Scenario tests see business rule tasks: the isolated engine gets the deployed decisions, and a
scenario's `decisions` expectation reads the `decision_evaluated` audit rows."""
from __future__ import annotations

from engine.services import deployments, scenario_tests
from engine.services.engine_app import IncidentEngine
from tests.conftest import FIXTURES

DEPLOY = FIXTURES / "deployments"
SCENARIOS = """
procedure: triage_decision
scenarios:
  - name: many customers make a P1
    start: {customers_affected: 5000, vip: false}
    expect: {open: [Td_Major], decisions: {Td_Decide: {priority: P1}}}
  - name: a wrong expectation fails
    start: {customers_affected: 5, vip: false}
    expect: {decisions: {Td_Decide: {priority: P1}}}
"""


def test_a_scenario_checks_a_decision(engine: IncidentEngine) -> None:
    deployed, _ = deployments.deploy_files(engine, [(p.name, p.read_bytes()) for p in (
        DEPLOY / "triage_decision.bpmn", DEPLOY / "priority.dmn")], actor="dana")
    version = next(r for r in deployed["resources"] if r["kind"] == "process")
    scenario_tests.upload(engine, "triage_decision", version["version"], SCENARIOS.encode(), actor="dana")
    run = scenario_tests.run(engine, "triage_decision", version["version"], actor="dana")
    results = {s["name"]: s for s in run["scenarios"]}
    assert results["many customers make a P1"]["passed"], results["many customers make a P1"]
    failed = results["a wrong expectation fails"]
    assert not failed["passed"] and "P3" in str(failed), failed
