"""Running a scenario suite against a stored version: every scenario in its own isolated engine."""
from __future__ import annotations

from typing import Any

from engine.scenarios.model import Suite
from engine.scenarios.runner import ScenarioResult, run_scenario

from .engine_app import IncidentEngine
from .scenario_store import EngineDriver, isolated_engine


def run_suite(engine: IncidentEngine, procedure: dict[str, Any], bpmn: bytes, suite: Suite) -> list[ScenarioResult]:
    """Each scenario's result, in file order; the live database is only read (the version's bytes)."""
    definition = engine.runtime(procedure, bpmn=bpmn).definition
    results = []
    for scenario in suite.scenarios:
        with isolated_engine(engine, procedure, bpmn) as isolated:
            driver = EngineDriver(isolated, procedure)
            with driver.clocked():
                results.append(run_scenario(definition, scenario, driver))
    return results
