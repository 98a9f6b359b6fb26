"""Running a scenario suite against a stored version: every scenario in its own isolated engine.

A run answers an HTTP request, so it has a time budget: scenarios not started when it is spent fail with
that reason (the run is stored like any other; run the suite again or split it).
"""
from __future__ import annotations

import time
from typing import Any

from engine.scenarios.model import Suite
from engine.scenarios.path import Trail
from engine.scenarios.runner import Failure, ScenarioResult, run_scenario

from .engine_app import IncidentEngine
from .scenario_store import EngineDriver, isolated_engine

BUDGET_SECONDS = 120.0


def run_suite(engine: IncidentEngine, procedure: dict[str, Any], bpmn: bytes, suite: Suite, *,
              budget_seconds: float = BUDGET_SECONDS) -> list[ScenarioResult]:
    """Each scenario's result, in file order; the live database is only read (the version's bytes)."""
    definition = engine.runtime(procedure, bpmn=bpmn).definition
    stop_at = time.monotonic() + budget_seconds
    results = []
    for scenario in suite.scenarios:
        if time.monotonic() >= stop_at:
            results.append(ScenarioResult(scenario.name, scenario.line, False, 0, None, [], [], Trail(), Failure(
                None, None, scenario.line, f"not run: the run's time budget ({budget_seconds:.0f} s) was spent "
                                           "on the scenarios before it")))
            continue
        with isolated_engine(engine, procedure, bpmn) as isolated:
            driver = EngineDriver(isolated, procedure)
            with driver.clocked():
                results.append(run_scenario(definition, scenario, driver))
    return results
