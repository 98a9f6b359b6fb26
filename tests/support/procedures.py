"""The one way tests get a procedure that takes live incidents: deploy it, then take it through governance.

Since issue 10 only an *active* version takes live incidents; starting one on a draft (or any version not
active) is a 409. So in a test:

    from tests.support.procedures import activate, deploy_active, deploy_bundled

    deploy_active(engine, FIXTURES / "bpmn" / "simple_flow.bpmn")   # deploy + activate; the version row
    deploy_bundled(engine)                                          # the three bundled procedures, active
    activate(engine, "simple_flow")                                 # one already deployed (default: latest)

    # API tests: upload through HTTP as before, then activate with the `engine` fixture, or with the
    # test client itself (its app's engine is used):
    upload(client, FIXTURES / "simple_flow.bpmn"); activate(client, "simple_flow")
    upload_active(client, FIXTURES / "simple_flow.bpmn")           # both in one call (tests/api/helpers.py)

`activate` runs engine.services.going_live.go_live, the same path the first-start bootstrap takes:
declaration (an objective of its own, peak 60/hour with 5 agents), submit, a *recorded* passing scenario
run covering every flow and a *recorded* passing fitness test at that peak (real scenario runs are tested
in tests/integration/test_scenario_runs.py, the real Locust run in tests/e2e; a version that already has
a run of its scenario tests keeps it), approval by `test-approver` (never the uploader) and activation,
all as governance events; the briefings the activation queues are marked
`skipped`, so the outbox holds only what the test's incidents queue. It costs a few milliseconds.

Or start a test incident, which runs any version (default: the latest) and is never counted by
monitoring, criteria or recommendations (so not for tests of those):

    incidents.start(engine, procedure="x", data={...}, test=True)
    client.post("/api/v1/incidents", json={"procedure": "x", "data": {...}, "test": True})

Listings (`GET /incidents`, `/tasks`, `/audit` and their services) show live rows unless asked for
`test=true`; every incident, task and audit row says `"test": true|false`.
"""
from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

from engine import clock
from engine.db import fitness_rows, procedure_rows, scenario_rows, strategy_rows
from engine.db.tables import outbox
from engine.services import deployments, fitness, procedures, strategy
from engine.services.engine_app import IncidentEngine
from engine.services.going_live import Peak, go_live
from engine.services.governance import locked_version, mark_tested_if_qualified

from ..conftest import BUNDLED

APPROVER = "test-approver"
PEAK = Peak(incidents_per_hour=60, agents=5)


def engine_of(where: Any) -> IncidentEngine:
    """The engine itself, or the engine behind a Flask app or test client."""
    if isinstance(where, IncidentEngine):
        return where
    app = getattr(where, "application", where)
    return app.extensions["incident_engine"]  # type: ignore[no-any-return]


def passing_fitness(engine: IncidentEngine, key: str, version: int, *, incidents_per_hour: int = 60,
                    agents: int = 5, status: str = "passed", sha256: str | None = None) -> str:
    """Store a finished fitness test as evidence (the real Locust run is exercised in tests/e2e)."""
    with engine.uow() as uow:
        proc = procedure_rows.get(uow.conn, key, version)
        assert proc is not None
        row = {"id": str(uuid.uuid4()), "procedure_id": proc["id"], "procedure_key": key, "procedure_version": version,
               "sha256": sha256 or proc["sha256"], "incidents_per_hour": incidents_per_hour, "agents": agents,
               "duration_s": 10, "status": status, "progress": {"phase": "done"},
               "report": {"passed": status == "passed", "reasons": []}, "created_by": "ops",
               "created_at": clock.now(), "finished_at": clock.now()}
        fitness_rows.insert(uow.conn, row)
        uow.commit()
    return str(row["id"])


def passing_scenario_run(engine: IncidentEngine, proc: dict[str, Any]) -> None:
    """Store a passing run of the version's scenario tests that takes every flow (a stand-in suite when it
    has none), unless the version's current suite already has a run of its own."""
    with engine.uow() as uow:
        suite = scenario_rows.current_suite(uow.conn, proc["id"])
        if suite is not None and scenario_rows.latest_run(uow.conn, proc["id"], suite["id"]) is not None:
            return
        now = clock.now()
        if suite is None:
            source = "# stand-in suite of tests/support/procedures.py\nscenarios: []\n"
            suite = {"id": str(uuid.uuid4()), "procedure_id": proc["id"], "sha256": hashlib.sha256(source.encode()).hexdigest(),
                     "format": "yaml", "source": source, "summary": {"recorded": True}, "created_by": "designer",
                     "created_at": now}
            scenario_rows.insert_suite(uow.conn, suite)
        scenario_rows.insert_run(uow.conn, {
            "id": str(uuid.uuid4()), "procedure_id": proc["id"], "procedure_key": proc["key"],
            "procedure_version": proc["version"], "sha256": proc["sha256"], "suite_id": suite["id"],
            "suite_sha256": suite["sha256"], "status": "passed", "passed": 1, "failed": 0,
            "totals": {"uncovered_flows": []}, "report": {"recorded": True}, "created_by": "designer",
            "created_at": now})
        uow.commit()


def _recorded_pass(engine: IncidentEngine, key: str, number: int, peak: Peak) -> dict[str, Any]:
    test_id = passing_fitness(engine, key, number, incidents_per_hour=peak.incidents_per_hour, agents=peak.agents)
    with engine.uow() as uow:  # what a finished fitness run does: a version in review is marked tested
        mark_tested_if_qualified(uow.conn, locked_version(uow.conn, key, number), "ops")
        uow.commit()
    return fitness.get_by_id(engine, test_id)


def activate(where: Any, key: str, version: int | None = None) -> dict[str, Any]:
    """Take version `version` (default: the latest) of `key` to active; returns its procedure row."""
    engine = engine_of(where)
    with engine.uow(write=False) as uow:
        row = procedure_rows.get(uow.conn, key, version)
    assert row is not None, f"no procedure {key!r} version {version} to activate: deploy it first"
    if row["status"] != "active":
        passing_scenario_run(engine, row)
        objective = _objective(engine)
        go_live(engine, key, row["version"], objectives=[objective], peak=PEAK, fitness=_recorded_pass,
                designer=row["created_by"] or "designer", approver=APPROVER)
        _set_briefings_aside(engine, key)
    return {**row, "status": "active"}


def _set_briefings_aside(engine: IncidentEngine, key: str) -> None:
    """The activation queued a briefing per lane; mark them skipped, so a test's outbox holds only what its
    incidents queue (the briefings themselves are tested in tests/api/test_governance_api.py and e2e)."""
    with engine.uow() as uow:
        uow.conn.execute(outbox.update().where(outbox.c.incident_id == f"procedure:{key}", outbox.c.status == "pending")
                         .values(status="skipped", last_error="the briefing of an activation made by a test helper"))
        uow.commit()


def deploy_active(where: Any, source: Path | bytes, *, actor: str = "designer",
                  process: str | None = None) -> dict[str, Any]:
    """Deploy a BPMN file (or bytes) and activate that version."""
    engine = engine_of(where)
    data = source.read_bytes() if isinstance(source, Path) else source
    row, _created = procedures.deploy(engine, data, process=process, actor=actor)
    return activate(engine, row["key"], row["version"])


def deploy_bundled(where: Any) -> list[dict[str, Any]]:
    """The bundled procedures (major_incident, data_breach, customer_complaint, data_subject_request), each
    active; one with Camunda Forms beside it (`<name>.*.form`) is deployed with them as one deployment."""
    engine = engine_of(where)
    rows = []
    for path in sorted(BUNDLED.glob("*.bpmn")):
        files = procedures.bundle(path)
        if len(files) == 1:
            rows.append(deploy_active(engine, path))
            continue
        deployments.deploy_files(engine, files, name=path.stem, source="bundled", actor="designer")
        rows.append(activate(engine, path.stem))
    return rows


_OBJECTIVES: dict[str, str] = {}


def _objective(engine: IncidentEngine) -> str:
    """One objective per database for the versions tests activate."""
    url = engine.settings.database_url
    with engine.uow(write=False) as uow:
        known = _OBJECTIVES.get(url)
        if known and strategy_rows.get(uow.conn, "objective", known) is not None:
            return known
    made = strategy.create(engine, "strategy", {"name": "Tests", "aim": "Procedures under test"}, actor="designer")
    objective = strategy.create(engine, "objective", {"strategy_id": made["id"], "name": "Run the procedure under test"},
                                actor="designer")
    _OBJECTIVES[url] = str(objective["id"])
    return _OBJECTIVES[url]
