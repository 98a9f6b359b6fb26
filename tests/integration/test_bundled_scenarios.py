"""The bundled procedures ship scenario tests that pass and take every sequence flow (issue 16, part 4)."""
from __future__ import annotations

from engine.services import procedures, scenario_tests
from engine.services.engine_app import IncidentEngine
from tests.conftest import BUNDLED

NAMES = sorted(p.stem for p in BUNDLED.glob("*.bpmn"))




def test_every_bundled_procedure_has_a_scenario_file() -> None:
    assert NAMES and all((BUNDLED / f"{name}.scenarios.yaml").is_file() for name in NAMES)


def test_deploying_the_bundled_directory_stores_the_scenarios_and_they_cover_every_flow(
        sqlite_engine: IncidentEngine) -> None:
    rows = procedures.deploy_directory(sqlite_engine, BUNDLED)
    assert sorted(r["key"] for r in rows) == NAMES
    for row in rows:
        suite = scenario_tests.get_suite(sqlite_engine, row["key"], row["version"])
        assert suite["source"] == (BUNDLED / f"{row['key']}.scenarios.yaml").read_text()
        run = scenario_tests.run(sqlite_engine, row["key"], row["version"], actor="ci")
        failures = [(s["name"], s["failure"]) for s in run["scenarios"] if not s["passed"]]
        assert not failures, failures
        coverage = run["coverage"]
        assert coverage["uncovered_flows"] == [] and coverage["totals"]["flow_share"] == 1.0, row["key"]
        assert all(e["fired"] for e in coverage["boundary_events"]), row["key"]
        assert all(c["covered"] for c in coverage["check_outcomes"]), row["key"]
    again = procedures.deploy_directory(sqlite_engine, BUNDLED)  # unchanged files: the same suites
    assert [scenario_tests.get_suite(sqlite_engine, r["key"], r["version"])["id"] for r in again] == \
        [scenario_tests.get_suite(sqlite_engine, r["key"], r["version"])["id"] for r in rows]
