"""Use cases for ops: request a fitness test of a procedure version, run it, read its report and raw CSV.

`run(engine, test_id)` does the whole test synchronously: an isolated database, migrated, holding only
this version's exact bytes; the real server on it as a subprocess; Locust headless against it; the
report (engine.fitness.report) stored with the raw CSV; the isolated database dropped. The run is called
by a worker (workers/fitness.py) or, without one, by `run_in_background` in a thread of this process.
A passing test at or above the declared peak marks a version in review `tested`.
"""
from __future__ import annotations

import dataclasses
import shutil
import tempfile
import threading
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from engine import clock
from engine.db import fitness_rows, governance_rows, procedure_rows
from engine.errors import Conflict, Invalid, NotFound, Problem
from engine.fitness import isolated, locust_run, report
from engine.fitness.server import ServerProcess

from .engine_app import IncidentEngine
from .governance import locked_version, mark_tested_if_qualified, version_row

CSV_FILES = {"stats": "stats_stats.csv", "failures": "stats_failures.csv", "history": "stats_stats_history.csv"}
MAX_DURATION_S = 3600


def _token_for_fitness_server() -> str | None:
    """The bearer token Locust sends to the spawned server. Hook for identity (issue #3): mint a short-lived
    ops token with PyJWT and the server's configured secret. Today the API has no authentication."""
    return None


def thresholds(engine: IncidentEngine) -> report.Thresholds:
    s = engine.settings
    return report.Thresholds(s.fitness_max_failures, float(s.fitness_p95_ms), s.fitness_require_settled)


def request(engine: IncidentEngine, key: str, number: int, *, incidents_per_hour: int | None = None,
            agents: int | None = None, duration_s: int | None = None, actor: str | None = None,
            principal: Any = None) -> dict[str, Any]:
    """Queue a fitness test; the volume defaults to the version's declared peak."""
    with engine.uow() as uow:
        proc = version_row(uow.conn, key, number)
        declared = governance_rows.declaration(uow.conn, proc["id"]) or {}
        rate = incidents_per_hour or declared.get("peak_incidents_per_hour")
        agents = agents or declared.get("peak_agents")
        problems = [Problem(f"give {name} or declare the peak volume first", field=name)
                    for name, value in (("incidents_per_hour", rate), ("agents", agents)) if not value]
        if problems or rate is None or agents is None:
            raise Invalid("the fitness test needs a volume", problems)
        running = [t for t in fitness_rows.for_procedure(uow.conn, proc["id"]) if t["status"] in ("queued", "running")
                   and t["created_at"] > clock.now() - timedelta(seconds=t["duration_s"] + 900)]
        if running:
            raise Conflict("a fitness test of this version is already queued or running", fitness_test=running[0]["id"])
        row = {"id": str(uuid.uuid4()), "procedure_id": proc["id"], "procedure_key": key, "procedure_version": number,
               "sha256": proc["sha256"], "incidents_per_hour": int(rate), "agents": int(agents),
               "duration_s": int(duration_s or engine.settings.fitness_default_duration_s), "status": "queued",
               "progress": {"phase": "queued"}, "created_by": actor, "created_at": clock.now()}
        fitness_rows.insert(uow.conn, row)
        uow.commit()
    return row


def _update(engine: IncidentEngine, test_id: str, values: dict[str, Any]) -> None:
    with engine.uow() as uow:
        fitness_rows.update(uow.conn, test_id, values)
        uow.commit()


def _deploy_isolated(engine: IncidentEngine, url: str, key: str, bpmn: bytes) -> None:
    from engine.db.migrate import upgrade

    from .procedures import deploy

    upgrade(url)
    settings = dataclasses.replace(engine.settings, database_url=url, deploy_bundled=False,
                                   max_upload_bytes=max(engine.settings.max_upload_bytes, len(bpmn)))
    isolated_engine = IncidentEngine(settings)
    try:
        deploy(isolated_engine, bpmn, process=key, actor="fitness-test")
    finally:
        isolated_engine.db.dispose()


def _server_env(engine: IncidentEngine, url: str, work_dir: Path) -> dict[str, str]:
    s = engine.settings
    return {"DATABASE_URL": url, "DEPLOY_BUNDLED": "0", "INCIDENT_ENGINE_INSTANCE": str(work_dir / "instance"),
            "LOOP_CAP": str(s.loop_cap), "MAX_UPLOAD_BYTES": str(s.max_upload_bytes), "LOG_LEVEL": s.log_level,
            "CALENDAR_COUNTRY": s.calendar_country, "CALENDAR_SUBDIVISION": s.calendar_subdivision}


def _execute(engine: IncidentEngine, test: dict[str, Any], work_dir: Path) -> dict[str, Any]:
    """Everything between "running" and the stored report; raises on any fault (the caller stores it)."""
    with engine.uow(write=False) as uow:
        bpmn = procedure_rows.bpmn(uow.conn, test["procedure_id"])
    assert bpmn is not None
    live = engine.settings.database_url
    with isolated.isolated_database(live, test["id"], work_dir, engine.settings.fitness_admin_database_url) as url:
        _deploy_isolated(engine, url, test["procedure_key"], bpmn)
        _update(engine, test["id"], {"progress": {"phase": "starting_server"}})
        with ServerProcess(_server_env(engine, url, work_dir), work_dir / "server.log") as server:
            plan = locust_run.LoadPlan(server.url, test["procedure_key"], test["incidents_per_hour"], test["agents"],
                                       test["duration_s"], engine.settings.fitness_pass_probability,
                                       engine.settings.fitness_drain_s)
            locust = locust_run.run(plan, work_dir, token=_token_for_fitness_server(),
                                    on_progress=lambda p: _update(engine, test["id"], {"progress": p}))
            _update(engine, test["id"], {"progress": {"phase": "collecting"}})
            counts = isolated.settle_counts(url)
            server_log = server.log_tail()
        csvs = {name: (work_dir / file).read_text() if (work_dir / file).exists() else None
                for name, file in CSV_FILES.items()}
        if not csvs["stats"]:
            raise RuntimeError(f"locust produced no statistics (exit {locust['exit_code']}): {locust['log_tail']}")
        extra = {"procedure": {"key": test["procedure_key"], "version": test["procedure_version"],
                               "sha256": test["sha256"]},
                 "parameters": {"incidents_per_hour": test["incidents_per_hour"], "agents": test["agents"],
                                "duration_s": test["duration_s"], "database": url.split(":", 1)[0].split("+")[0],
                                "pass_probability": plan.pass_probability},
                 "locust": {"exit_code": locust["exit_code"], "seconds": locust["seconds"], **locust["summary"]},
                 "server_log_tail": server_log if locust["exit_code"] not in (0, 1) else None}
        built = report.build(stats_csv=csvs["stats"], failures_csv=csvs["failures"], counts=counts,
                             duration_s=test["duration_s"], peak_rss_bytes=server.peak_rss_bytes,
                             thresholds=thresholds(engine), extra=extra)
    return {"report": built, "stats_csv": csvs["stats"], "failures_csv": csvs["failures"],
            "history_csv": csvs["history"], "status": "passed" if built["passed"] else "failed"}


def run(engine: IncidentEngine, test_id: str) -> dict[str, Any]:
    """Run a queued fitness test to the end and store its outcome; a test no longer queued is left alone."""
    with engine.uow() as uow:
        test = fitness_rows.get(uow.conn, test_id)
        if test is None:
            raise NotFound(f"no fitness test {test_id}")
        if test["status"] != "queued":
            return test
        fitness_rows.update(uow.conn, test_id, {"status": "running", "started_at": clock.now(),
                                                "progress": {"phase": "preparing"}})
        uow.commit()
    work_dir = Path(tempfile.mkdtemp(prefix=f"fitness-{test_id[:8]}-", dir=engine.settings.fitness_work_dir))
    try:
        outcome = _execute(engine, test, work_dir)
    except Exception as err:  # noqa: BLE001 - any fault ends the test as an error with its reason
        outcome = {"status": "error", "error": f"{type(err).__name__}: {err}"}
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    with engine.uow() as uow:
        fitness_rows.update(uow.conn, test_id, {**outcome, "finished_at": clock.now(), "progress": {"phase": "done"}})
        if outcome["status"] == "passed":
            proc = locked_version(uow.conn, test["procedure_key"], test["procedure_version"])
            mark_tested_if_qualified(uow.conn, proc, test["created_by"])
        uow.commit()
    return get_by_id(engine, test_id)


def run_in_background(engine: IncidentEngine, test_id: str) -> threading.Thread:
    """The in-process runner used when no worker is configured: the run in a daemon thread."""
    thread = threading.Thread(target=run, args=(engine, test_id), daemon=True, name=f"fitness-{test_id[:8]}")
    thread.start()
    return thread


def get_by_id(engine: IncidentEngine, test_id: str) -> dict[str, Any]:
    with engine.uow(write=False) as uow:
        found = fitness_rows.get(uow.conn, test_id)
    if found is None:
        raise NotFound(f"no fitness test {test_id}")
    return found


def get(engine: IncidentEngine, key: str, number: int, test_id: str) -> dict[str, Any]:
    found = get_by_id(engine, test_id)
    if (found["procedure_key"], found["procedure_version"]) != (key, number):
        raise NotFound(f"version {number} of {key} has no fitness test {test_id}")
    return found


def page(engine: IncidentEngine, key: str, number: int) -> list[dict[str, Any]]:
    with engine.uow(write=False) as uow:
        return fitness_rows.for_procedure(uow.conn, version_row(uow.conn, key, number)["id"])


def raw_csv(engine: IncidentEngine, key: str, number: int, test_id: str, name: str) -> str:
    get(engine, key, number, test_id)
    if name not in CSV_FILES:
        raise NotFound(f"no CSV named {name!r}; one of {', '.join(CSV_FILES)}")
    with engine.uow(write=False) as uow:
        text = fitness_rows.csv(uow.conn, test_id, name)
    if text is None:
        raise NotFound("the test has no such CSV (yet)")
    return text
