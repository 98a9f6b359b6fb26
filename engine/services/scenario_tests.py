"""Use cases for scenario tests: store a version's scenario file, run it in an isolated engine, read the runs.

The file is checked when it is stored (a malformed one is a 422 naming each line) and read again for
every run, so a run always judges the suite as stored. Each scenario runs in its own in-memory engine
(engine.services.scenario_store); the run, with every scenario's result and the coverage, is stored as
evidence for approval (engine.governance.approval reads the newest run of the current suite).
"""
from __future__ import annotations

import hashlib
import time
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection

from engine import clock
from engine.db import governance_rows, procedure_rows, scenario_rows
from engine.errors import Conflict, Invalid, NotFound, Problem
from engine.identity import policy
from engine.identity.principal import Principal
from engine.scenarios.coverage import coverage
from engine.scenarios.format import parse
from engine.scenarios.model import Suite

from .engine_app import IncidentEngine
from .governance import locked_version, version_row
from .scenario_runs import run_suite

# A suite may change while the version is still being reviewed; once approved it is part of the evidence.
EDITABLE = ("draft", "in_review", "tested")
FORMATS = ("yaml", "json")


def check(raw: bytes, kind: str | None = None, *, key: str | None = None) -> Suite:
    """The suite in `raw`, or Invalid naming each problem's line (nothing is stored)."""
    if kind is not None and kind not in FORMATS:
        raise Invalid(f"a scenario file is YAML or JSON, not {kind}", [Problem("unknown format", field="format")])
    suite = parse(raw, kind)
    if key is not None and suite.procedure is not None and suite.procedure != key:
        raise Invalid(f"the scenario file is for procedure {suite.procedure!r}, not {key!r}",
                      [Problem("procedure does not match the version's key", field="procedure",
                               rule="scenarios.format")])
    return suite


def _kind(raw: bytes, kind: str | None) -> str:
    return kind or ("json" if raw.lstrip()[:1] in (b"{", b"[") else "yaml")


def _after(previous: dict[str, Any] | None) -> Any:
    """Now, or just after the previous row when the clock has not moved (frozen test clocks), so the
    newest row is always the last one written."""
    now = clock.now()
    if previous is not None and previous["created_at"] >= now:
        return previous["created_at"] + timedelta(microseconds=1)
    return now


def store(conn: Connection, proc: dict[str, Any], raw: bytes, kind: str | None, actor: str | None
          ) -> tuple[dict[str, Any], bool]:
    """Store `raw` as the version's current suite (already checked); identical bytes are a no-op."""
    if proc["status"] not in EDITABLE:
        raise Conflict(f"the scenario tests of a version that is {proc['status']} are part of its approval "
                       "evidence and cannot change; upload a new version", current_status=proc["status"])
    suite = check(raw, kind, key=proc["key"])
    sha = hashlib.sha256(raw).hexdigest()
    current = scenario_rows.current_suite(conn, proc["id"])
    if current is not None and current["sha256"] == sha:
        return current, False
    row = {"id": str(uuid.uuid4()), "procedure_id": proc["id"], "sha256": sha, "format": _kind(raw, kind),
           "source": raw.decode("utf-8").lstrip("\ufeff"), "summary": suite.summary(), "created_by": actor,
           "created_at": _after(current)}
    scenario_rows.insert_suite(conn, row)
    governance_rows.append_event(conn, {
        "procedure_id": proc["id"], "procedure_key": proc["key"], "procedure_version": proc["version"],
        "action": "scenarios_uploaded", "from_status": proc["status"], "to_status": proc["status"],
        "actor": actor, "at": row["created_at"],
        "data": {"suite": row["id"], "sha256": sha, "scenarios": len(suite.scenarios)}})
    return row, True


def suite_view(row: dict[str, Any], proc: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "key": proc["key"], "version": proc["version"], "sha256": row["sha256"],
            "format": row["format"], "source": row["source"], **row["summary"],
            "created_by": row["created_by"], "created_at": row["created_at"]}


def upload(engine: IncidentEngine, key: str, number: int, raw: bytes, *, kind: str | None = None,
           actor: str | None = None, principal: Principal | None = None) -> tuple[dict[str, Any], bool]:
    """Store the version's scenario file (replacing the current one while the version is editable)."""
    policy.require(principal, "scenarios.write")
    if principal is not None:
        actor = principal.user_id
    with engine.uow() as uow:
        proc = locked_version(uow.conn, key, number)
        row, created = store(uow.conn, proc, raw, kind, actor)
        view = suite_view(row, proc)
        uow.commit()
    return view, created


def get_suite(engine: IncidentEngine, key: str, number: int, *, principal: Principal | None = None) -> dict[str, Any]:
    policy.require(principal, "procedures.read")
    with engine.uow(write=False) as uow:
        proc = version_row(uow.conn, key, number)
        row = scenario_rows.current_suite(uow.conn, proc["id"])
    if row is None:
        raise NotFound(f"version {number} of {key} has no scenario tests")
    return suite_view(row, proc)


def run(engine: IncidentEngine, key: str, number: int, *, actor: str | None = None,
        principal: Principal | None = None) -> dict[str, Any]:
    """Run every scenario of the current suite; the stored run (results, coverage) is returned."""
    policy.require(principal, "scenarios.run")
    if principal is not None:
        actor = principal.user_id
    with engine.uow(write=False) as uow:
        proc = version_row(uow.conn, key, number)
        row = scenario_rows.current_suite(uow.conn, proc["id"])
        bpmn = procedure_rows.bpmn(uow.conn, proc["id"])
    if row is None:
        raise Conflict(f"version {number} of {key} has no scenario tests; upload a scenario file first")
    assert bpmn is not None
    suite = parse(row["source"], row["format"])
    began = time.perf_counter()
    results = run_suite(engine, proc, bpmn, suite)
    seconds = round(time.perf_counter() - began, 3)
    definition = engine.runtime(proc, bpmn=bpmn).definition
    covered = coverage(definition, [(r.name, r.trail) for r in results if r.passed], suite.not_testable)
    failed = sum(1 for r in results if not r.passed)
    report = {"scenarios": [r.as_dict() for r in results], "coverage": covered, "seconds": seconds,
              "not_testable": [{"flow": n.flow, "reason": n.reason, "line": n.line} for n in suite.not_testable]}
    with engine.uow() as uow:
        previous = scenario_rows.runs(uow.conn, proc["id"], limit=1)
        stored = {"id": str(uuid.uuid4()), "procedure_id": proc["id"], "procedure_key": key,
                  "procedure_version": number, "sha256": proc["sha256"], "suite_id": row["id"],
                  "suite_sha256": row["sha256"], "status": "failed" if failed else "passed",
                  "passed": len(results) - failed, "failed": failed, "report": report, "created_by": actor,
                  "totals": {**covered["totals"], "uncovered_flows": covered["uncovered_flows"]},
                  "created_at": _after(previous[0] if previous else None)}
        scenario_rows.insert_run(uow.conn, stored)
        uow.commit()
    return run_view(stored)


def run_view(row: dict[str, Any]) -> dict[str, Any]:
    report = row.get("report") or {}
    return {"id": row["id"], "key": row["procedure_key"], "version": row["procedure_version"],
            "sha256": row["sha256"], "suite_id": row["suite_id"], "suite_sha256": row["suite_sha256"],
            "status": row["status"], "passed": row["passed"], "failed": row["failed"],
            "created_by": row["created_by"], "created_at": row["created_at"],
            "coverage_totals": row["totals"],
            **({k: report[k] for k in ("scenarios", "coverage", "not_testable", "seconds")} if report else {})}


def runs(engine: IncidentEngine, key: str, number: int, *, principal: Principal | None = None) -> list[dict[str, Any]]:
    policy.require(principal, "procedures.read")
    with engine.uow(write=False) as uow:
        proc = version_row(uow.conn, key, number)
        return [run_view(r) for r in scenario_rows.runs(uow.conn, proc["id"])]


def get_run(engine: IncidentEngine, key: str, number: int, run_id: str, *,
            principal: Principal | None = None) -> dict[str, Any]:
    policy.require(principal, "procedures.read")
    with engine.uow(write=False) as uow:
        proc = version_row(uow.conn, key, number)
        found = scenario_rows.run(uow.conn, run_id)
    if found is None or found["procedure_id"] != proc["id"]:
        raise NotFound(f"version {number} of {key} has no scenario run {run_id}")
    return run_view(found)


def deploy_with_scenarios(engine: IncidentEngine, data: bytes, scenarios: bytes, *, kind: str | None = None,
                          process: str | None = None, actor: str | None = None,
                          principal: Principal | None = None) -> tuple[dict[str, Any], bool]:
    """Upload a version and its scenario file together: a malformed scenario file refuses both."""
    from .procedures import deploy

    policy.require(principal, "scenarios.write")
    check(scenarios, kind)
    row, created = deploy(engine, data, process=process, actor=actor, principal=principal)
    if principal is not None:
        actor = principal.user_id
    with engine.uow() as uow:
        proc = locked_version(uow.conn, row["key"], row["version"])
        store(uow.conn, proc, scenarios, kind, actor)
        uow.commit()
    return row, created


def attach_scenario_file(engine: IncidentEngine, version: dict[str, Any], path: Any, actor: str | None) -> bool:
    """Store the scenario file at `path` (if there is one) for a deployed version that may still take it;
    True when it is now the version's current suite."""
    if not path.is_file():
        return False
    with engine.uow() as uow:
        proc = locked_version(uow.conn, version["key"], version["version"])
        current = scenario_rows.current_suite(uow.conn, proc["id"])
        raw = path.read_bytes()
        if current is not None and current["sha256"] == hashlib.sha256(raw).hexdigest():
            return True
        if proc["status"] not in EDITABLE:
            return False
        store(uow.conn, proc, raw, None, actor)
        uow.commit()
    return True


def report(engine: IncidentEngine, key: str, number: int, run_id: str | None = None, *,
           principal: Principal | None = None) -> dict[str, Any]:
    """What the scenario report page shows: the version and its BPMN XML, the run (given, else the newest
    of the current suite), the flows declared not testable, and what scenario tests still block approval."""
    from engine.governance.approval import scenario_unmet

    from .governance import scenario_facts

    policy.require(principal, "procedures.read")
    with engine.uow(write=False) as uow:
        proc = version_row(uow.conn, key, number)
        found = scenario_facts(uow.conn, proc["id"])
        chosen = scenario_rows.run(uow.conn, run_id) if run_id else \
            scenario_rows.run(uow.conn, found["run"]["id"]) if found["run"] else None
        bpmn = procedure_rows.bpmn(uow.conn, proc["id"])
    if run_id and (chosen is None or chosen["procedure_id"] != proc["id"]):
        raise NotFound(f"version {number} of {key} has no scenario run {run_id}")
    assert bpmn is not None
    return {"procedure": proc, "bpmn": bpmn.decode("utf-8", errors="replace"),
            "run": run_view(chosen) if chosen else None, "not_testable": found["not_testable"],
            "blockers": [u.as_dict() for u in scenario_unmet({"sha256": proc["sha256"]}, found)]}
