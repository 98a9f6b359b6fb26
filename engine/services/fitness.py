"""Use cases for ops: request a fitness test of a procedure version, read its progress, report and raw CSV.

The run itself (Locust against the exact version on an isolated database) is fitness_run.py.
"""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from engine import clock
from engine.db import fitness_rows, governance_rows
from engine.errors import Conflict, Invalid, NotFound, Problem

from .engine_app import IncidentEngine
from .fitness_run import CSV_FILES, abandon, run, run_in_background
from .governance import version_row

__all__ = ["abandon", "get", "get_by_id", "page", "raw_csv", "request", "run", "run_in_background"]


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
