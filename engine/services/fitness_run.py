"""Running one fitness test to the end, synchronously: the whole Locust run, given the test's id.

An isolated database, migrated, holding only this version's exact bytes; the real server on it as a
subprocess; Locust headless against it; the report (engine.fitness.report) stored with the raw CSV; the
isolated database dropped, whatever happened. Called by a worker (workers/fitness.py) or, without one,
by `run_in_background` in a thread of this process. A passing test at or above the declared peak marks a
version in review `tested`.
"""
from __future__ import annotations

import dataclasses
import shutil
import tempfile
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from engine import clock
from engine.db import fitness_rows, procedure_rows
from engine.errors import NotFound
from engine.fitness import isolated, locust_run, report
from engine.fitness.server import ServerProcess

from .engine_app import IncidentEngine
from .governance import locked_version, mark_tested_if_qualified

CSV_FILES = {"stats": "stats_stats.csv", "failures": "stats_failures.csv", "history": "stats_stats_history.csv"}


def _fitness_credentials(engine: IncidentEngine, ttl_s: int) -> tuple[str, str]:
    """A one-off HS256 secret for the spawned server, and a token signed with it for the simulated desks.

    The isolated server trusts only this secret, so live tokens never reach it and its token is useless
    anywhere else. The token is an admin's: the fitness test measures the procedure, not role rules.
    """
    import secrets

    from engine.identity.tokens import issue_token

    secret = secrets.token_urlsafe(48)
    settings = dataclasses.replace(engine.settings, jwt_algorithm="HS256", jwt_secret=secret,
                                   jwt_issuer=None, jwt_audience=None)
    token = issue_token(settings, user="fitness-test", roles=["admin"], ttl=timedelta(seconds=ttl_s))
    return secret, token


def thresholds(engine: IncidentEngine) -> report.Thresholds:
    s = engine.settings
    return report.Thresholds(s.fitness_max_failures, float(s.fitness_p95_ms), s.fitness_require_settled,
                             s.fitness_min_arrival_ratio)


def _update(engine: IncidentEngine, test_id: str, values: dict[str, Any]) -> None:
    with engine.uow() as uow:
        fitness_rows.update(uow.conn, test_id, values)
        uow.commit()


def _deployed_with(engine: IncidentEngine, procedure_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                                                       list[tuple[str, bytes]]]:
    """What the version needs beside its BPMN: every deployed decision and form with its deployment (the
    references its binding `latest`/`version` names), and the files of its own deployment (binding `deployment`)."""
    from engine.db import deployment_rows, resource_rows

    with engine.uow(write=False) as uow:
        resources = resource_rows.everything(uow.conn)
        deployed = [d for d in (deployment_rows.get(uow.conn, i) for i in {r["deployment_id"] for r in resources} if i)
                    if d is not None]
        proc = procedure_rows.get_by_id(uow.conn, procedure_id)
        own = deployment_rows.get(uow.conn, proc["deployment_id"]) if proc and proc.get("deployment_id") else None
        files: dict[str, bytes] = {}
        for listed in (own or {}).get("resources", []):
            if listed["kind"] != "process" and listed["filename"] not in files:
                files[listed["filename"]] = resource_rows.content(uow.conn, listed["id"]) or b""
    return resources, deployed, sorted(files.items())


def _deploy_isolated(engine: IncidentEngine, url: str, key: str, bpmn: bytes, procedure_id: str) -> None:
    from engine.db import deployment_rows, resource_rows
    from engine.db.migrate import upgrade

    from .deployments import _deploy
    from .procedures import deploy

    upgrade(url)
    resources, deployed, files = _deployed_with(engine, procedure_id)
    settings = dataclasses.replace(engine.settings, database_url=url, deploy_bundled=False,
                                   max_upload_bytes=max(engine.settings.max_upload_bytes, len(bpmn)))
    isolated_engine = IncidentEngine(settings)
    try:
        with isolated_engine.uow() as uow:
            for deployment in deployed:
                deployment_rows.insert(uow.conn, deployment)
            for resource in resources:
                resource_rows.insert(uow.conn, resource)
            uow.commit()
        if files:  # deployed with its forms/decisions: again as one deployment, so binding `deployment` resolves
            _deploy(isolated_engine, [(f"{key}.bpmn", bpmn), *files], name=key, source="fitness test",
                    actor="fitness-test", process=key)
        else:
            deploy(isolated_engine, bpmn, process=key, actor="fitness-test")
    finally:
        isolated_engine.db.dispose()


def _server_env(engine: IncidentEngine, url: str, work_dir: Path, jwt_secret: str) -> dict[str, str]:
    s = engine.settings
    return {"JWT_ALGORITHM": "HS256", "JWT_SECRET": jwt_secret, "JWT_ISSUER": "", "JWT_AUDIENCE": "",
            "SCHEDULER": "inprocess", "CELERY_BROKER_URL": "", "DATABASE_URL": url, "DEPLOY_BUNDLED": "0",
            "BOOTSTRAP_BUNDLED": "0", "INCIDENT_ENGINE_INSTANCE": str(work_dir / "instance"),
            "LOOP_CAP": str(s.loop_cap), "MAX_UPLOAD_BYTES": str(s.max_upload_bytes), "LOG_LEVEL": s.log_level,
            "CALENDAR_COUNTRY": s.calendar_country, "CALENDAR_SUBDIVISION": s.calendar_subdivision}


def _execute(engine: IncidentEngine, test: dict[str, Any], work_dir: Path) -> dict[str, Any]:
    """Everything between "running" and the stored report; raises on any fault (the caller stores it)."""
    with engine.uow(write=False) as uow:
        bpmn = procedure_rows.bpmn(uow.conn, test["procedure_id"])
    assert bpmn is not None
    live = engine.settings.database_url
    with isolated.isolated_database(live, test["id"], work_dir, engine.settings.fitness_admin_database_url) as url:
        _deploy_isolated(engine, url, test["procedure_key"], bpmn, test["procedure_id"])
        _update(engine, test["id"], {"progress": {"phase": "starting_server"}})
        secret, token = _fitness_credentials(engine, test["duration_s"] + 3600)
        with ServerProcess(_server_env(engine, url, work_dir, secret), work_dir / "server.log") as server:
            plan = locust_run.LoadPlan(server.url, test["procedure_key"], test["incidents_per_hour"], test["agents"],
                                       test["duration_s"], engine.settings.fitness_pass_probability,
                                       engine.settings.fitness_drain_s)
            locust = locust_run.run(plan, work_dir, token=token,
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
                             thresholds=thresholds(engine), requested_per_hour=test["incidents_per_hour"],
                             dispatch_seconds=locust["summary"].get("dispatch_seconds"), extra=extra)
    return {"report": built, "stats_csv": csvs["stats"], "failures_csv": csvs["failures"],
            "history_csv": csvs["history"], "status": "passed" if built["passed"] else "failed"}


def run(engine: IncidentEngine, test_id: str) -> dict[str, Any]:
    """Run a queued fitness test to the end and store its outcome; a test no longer queued is left alone."""
    with engine.uow() as uow:
        test = fitness_rows.get(uow.conn, test_id)
        if test is None:
            raise NotFound(f"no fitness test {test_id}")
        if not fitness_rows.start(uow.conn, test_id, {"started_at": clock.now(), "progress": {"phase": "preparing"}}):
            return test
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
    with engine.uow(write=False) as uow:
        final = fitness_rows.get(uow.conn, test_id)
    assert final is not None
    return final


def abandon(engine: IncidentEngine, test_id: str, reason: str) -> None:
    """End a test that could not be handed to its runner (the broker was unreachable) as an error, so it
    neither blocks a new request nor waits for a run that will never come."""
    with engine.uow() as uow:
        if fitness_rows.start(uow.conn, test_id, {"started_at": clock.now(), "progress": {"phase": "done"}}):
            fitness_rows.update(uow.conn, test_id, {"status": "error", "error": reason, "finished_at": clock.now()})
        uow.commit()


def run_in_background(engine: IncidentEngine, test_id: str) -> threading.Thread:
    """The in-process runner used when no worker is configured: the run in a daemon thread."""
    thread = threading.Thread(target=run, args=(engine, test_id), daemon=True, name=f"fitness-{test_id[:8]}")
    thread.start()
    return thread
