"""The first start: the bundled procedures go live through the real governance path, never around it.

For each bundled file: deployed by the uploader identity `incident-engine:bundled` (with its scenario file,
`<name>.scenarios.yaml`); an objective stating its purpose (under one strategy, "Bundled incident
procedures"); a declared peak; its scenario tests run; a real Locust fitness test at that peak against an
isolated database; approval and activation by a distinct identity,
`incident-engine:bootstrap` (never the uploader). Every step is a governance use case, so every step is in
the version's events with its actor. A procedure that already has an active version is left alone, so
this runs once: `incident-engine serve` calls it on the embedded default (BOOTSTRAP_BUNDLED), and
`incident-engine bootstrap` runs it on any database.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.db import governance_rows, procedure_rows, scenario_rows, strategy_rows
from engine.errors import EngineError
from engine.governance.outline import purpose_of

from . import fitness, scenario_tests, strategy
from .engine_app import IncidentEngine
from .going_live import NotApproved, Peak, go_live
from .procedures import deploy_directory

UPLOADER = "incident-engine:bundled"
APPROVER = "incident-engine:bootstrap"
STRATEGY = "Bundled incident procedures"
PEAK = Peak(incidents_per_hour=1800, agents=3)  # what the fitness test then shows each version copes with
ATTEMPTS = 2  # a fitness test on a busy machine may miss its latency target once


def _objective(engine: IncidentEngine, name: str, description: str | None) -> str:
    """The bootstrap's objective called `name`, created (with its strategy) the first time."""
    with engine.uow(write=False) as uow:
        found = strategy_rows.page(uow.conn, "strategy", filters={"name": STRATEGY, "created_by": APPROVER},
                                   limit=1, after=None)
        objective = strategy_rows.page(uow.conn, "objective", filters={"strategy_id": found[0]["id"], "name": name},
                                       limit=1, after=None) if found else []
    if objective:
        return str(objective[0]["id"])
    strategy_id = found[0]["id"] if found else strategy.create(engine, "strategy", {
        "name": STRATEGY, "aim": "Run the procedures that ship with the engine, as agreed at first start"},
        actor=APPROVER)["id"]
    return str(strategy.create(engine, "objective", {"strategy_id": strategy_id, "name": name[:255],
                                                     "description": description}, actor=APPROVER)["id"])


def real_fitness_test(duration_s: int) -> Callable[[IncidentEngine, str, int, Peak], dict[str, Any]]:
    """A fitness step that runs Locust for `duration_s` at the peak, in this process, up to ATTEMPTS times."""
    def run(engine: IncidentEngine, key: str, number: int, peak: Peak) -> dict[str, Any]:
        done: dict[str, Any] = {}
        for _attempt in range(ATTEMPTS):
            queued = fitness.request(engine, key, number, incidents_per_hour=peak.incidents_per_hour,
                                     agents=peak.agents, duration_s=duration_s, actor=APPROVER)
            done = fitness.run(engine, queued["id"])
            if done["status"] == "passed":
                break
        return done

    return run


def bootstrap_bundled(engine: IncidentEngine, directory: Path, *,
                      say: Callable[[str], None] = print) -> dict[str, str]:
    """Deploy and activate every bundled procedure that has no active version; {key: what happened}."""
    outcome: dict[str, str] = {}
    run_fitness = real_fitness_test(engine.settings.bootstrap_fitness_seconds)
    for row in deploy_directory(engine, directory, actor=UPLOADER):
        key, number = row["key"], row["version"]
        with engine.uow(write=False) as uow:
            active = governance_rows.active(uow.conn, key)
            latest = procedure_rows.get(uow.conn, key, number)
            data = procedure_rows.bpmn(uow.conn, row["id"]) or b""
            suite = scenario_rows.current_suite(uow.conn, row["id"])
        if active is not None:
            outcome[key] = f"v{active['version']} is active"
            continue
        assert latest is not None
        say(f"bootstrap: {key} v{number} ({latest['status']}) goes through governance: declaration, a "
            f"{engine.settings.bootstrap_fitness_seconds} s fitness test at {PEAK.incidents_per_hour} "
            f"incidents/hour with {PEAK.agents} agents, approval and activation by {APPROVER}")
        try:
            objective = _objective(engine, row.get("name") or key, purpose_of(data, key))
            if suite is not None:
                ran = scenario_tests.run(engine, key, number, actor=APPROVER)
                say(f"bootstrap: {key} v{number} scenario tests {ran['status']} ({ran['passed']} passed, "
                    f"{ran['failed']} failed)")
            go_live(engine, key, number, objectives=[objective], peak=PEAK, fitness=run_fitness,
                    designer=UPLOADER, approver=APPROVER, note="bundled procedure, approved at first start")
        except (EngineError, NotApproved) as err:
            outcome[key] = f"v{number} not activated: {err}"
        else:
            outcome[key] = f"v{number} activated"
        say(f"bootstrap: {key} {outcome[key]}")
    return outcome
