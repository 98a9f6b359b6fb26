"""Use cases for a procedure version's governance: its declaration and its explicit lifecycle transitions.

Every transition locks the versions of the key, checks the state machine (engine.governance.lifecycle),
changes `procedures.status` and appends a `procedure_events` row with the actor, in one transaction.
Approval and activation, which have more rules, are in approval.py and activation.py.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from engine import clock
from engine.db import (
    comment_rows,
    fitness_rows,
    governance_rows,
    procedure_rows,
    scenario_rows,
    simulation_rows,
    strategy_rows,
)
from engine.errors import Conflict, Invalid, NotFound, Problem
from engine.governance import lifecycle
from engine.governance.approval import qualifying_tests, unmet_conditions

from .engine_app import IncidentEngine


def locked_version(conn: Connection, key: str, number: int) -> dict[str, Any]:
    """The version, after locking every version of its key."""
    found = [v for v in governance_rows.lock_key(conn, key) if v["version"] == number]
    if not found:
        raise NotFound(f"procedure {key!r} has no version {number}")
    return found[0]


def version_row(conn: Connection, key: str, number: int) -> dict[str, Any]:
    found = procedure_rows.get(conn, key, number)
    if found is None:
        raise NotFound(f"procedure {key!r} has no version {number}")
    return found


def apply(conn: Connection, proc: dict[str, Any], action: str, actor: str | None,
          data: dict[str, Any] | None = None) -> str:
    """Take a lifecycle action on a locked version: status and audit event together."""
    new_status = lifecycle.transition(proc["status"], action)
    governance_rows.set_status(conn, proc["id"], new_status)
    governance_rows.append_event(conn, {
        "procedure_id": proc["id"], "procedure_key": proc["key"], "procedure_version": proc["version"],
        "action": action, "from_status": proc["status"], "to_status": new_status, "actor": actor,
        "at": clock.now(), "data": data})
    proc["status"] = new_status
    return new_status


def facts(conn: Connection, proc: dict[str, Any]) -> dict[str, Any]:
    """What the approval rules look at, gathered for one version."""
    declaration = governance_rows.declaration(conn, proc["id"]) or {}
    return {
        "version": {"sha256": proc["sha256"], "peak_incidents_per_hour": declaration.get("peak_incidents_per_hour"),
                    "peak_agents": declaration.get("peak_agents")},
        "comments_open": comment_rows.count_open(conn, proc["id"]),
        "objectives": strategy_rows.objectives_of(conn, proc["id"]),
        "fitness_tests": fitness_rows.for_procedure(conn, proc["id"]),
        "lint": list((proc.get("summary") or {}).get("lint", [])),
        "scenarios": scenario_facts(conn, proc["id"]),
        "simulations": [simulation_summary(s) for s in simulation_rows.for_procedure(conn, proc["id"])
                        if s["attached"]],
    }


def simulation_summary(row: dict[str, Any]) -> dict[str, Any]:
    """A simulation attached as evidence: its window and agents, and each criterion's predicted status."""
    report, parameters = row.get("report") or {}, row.get("parameters") or {}
    return {"id": row["id"], "since": parameters.get("since"), "until": parameters.get("until"),
            "agents": parameters.get("agents"), "replications": parameters.get("replications"),
            "criteria": [{"name": c.get("name"), "status": c.get("status"), "value": c.get("value"),
                          "target": c.get("target")} for c in report.get("criteria", [])]}


def scenario_facts(conn: Connection, procedure_id: str) -> dict[str, Any]:
    """The version's current scenario suite and the newest run of it (without the per-scenario report)."""
    suite = scenario_rows.current_suite(conn, procedure_id)
    run = scenario_rows.latest_run(conn, procedure_id, suite["id"]) if suite else None
    not_testable = list((suite["summary"] or {}).get("not_testable") or []) if suite else []
    return {"suite": {"id": suite["id"], "sha256": suite["sha256"]} if suite else None,
            "run": {k: run[k] for k in ("id", "sha256", "suite_id", "status", "passed", "failed", "totals",
                                        "created_at")} if run else None,
            "not_testable": not_testable}


def mark_tested_if_qualified(conn: Connection, proc: dict[str, Any], actor: str | None) -> bool:
    """In review with a passing fitness test at the declared peak: the engine marks the version tested."""
    if proc["status"] != "in_review":
        return False
    found = facts(conn, proc)
    tests = qualifying_tests(found["version"], found["fitness_tests"])
    if not tests:
        return False
    apply(conn, proc, "mark_tested", actor, {"automatic": True, "fitness_test": tests[0]["id"]})
    return True


def declaration_view(conn: Connection, proc: dict[str, Any]) -> dict[str, Any]:
    found = governance_rows.declaration(conn, proc["id"]) or {}
    return {"key": proc["key"], "version": proc["version"], "status": proc["status"],
            "objectives": [o["id"] for o in strategy_rows.objectives_of(conn, proc["id"])],
            "peak_incidents_per_hour": found.get("peak_incidents_per_hour"), "peak_agents": found.get("peak_agents"),
            "updated_by": found.get("updated_by"), "updated_at": found.get("updated_at")}


def get_declaration(engine: IncidentEngine, key: str, number: int) -> dict[str, Any]:
    with engine.uow(write=False) as uow:
        return declaration_view(uow.conn, version_row(uow.conn, key, number))


def declare(engine: IncidentEngine, key: str, number: int, body: dict[str, Any], *, actor: str | None = None,
            principal: Any = None) -> dict[str, Any]:
    """Set the objectives a draft version serves and its peak volume; fields left out keep their value."""
    with engine.uow() as uow:
        proc = locked_version(uow.conn, key, number)
        if proc["status"] != "draft":
            raise Conflict(f"the declaration can only change while the version is a draft; it is {proc['status']}",
                           current_status=proc["status"], allowed=lifecycle.allowed_actions(proc["status"]))
        if body.get("objectives") is not None:
            known = strategy_rows.existing_objectives(uow.conn, list(body["objectives"]))
            missing = [o for o in body["objectives"] if o not in known]
            if missing:
                raise Invalid("unknown objectives", [Problem(f"no objective {o}", field="objectives") for o in missing])
            strategy_rows.set_objectives(uow.conn, proc["id"], list(body["objectives"]))
        current = governance_rows.declaration(uow.conn, proc["id"]) or {}
        row = {"procedure_id": proc["id"], "updated_by": actor, "updated_at": clock.now(),
               **{k: body.get(k, current.get(k)) for k in ("peak_incidents_per_hour", "peak_agents")}}
        governance_rows.save_declaration(uow.conn, row)
        governance_rows.append_event(uow.conn, {
            "procedure_id": proc["id"], "procedure_key": key, "procedure_version": number, "action": "declare",
            "from_status": proc["status"], "to_status": proc["status"], "actor": actor, "at": row["updated_at"],
            "data": {k: v for k, v in body.items() if v is not None}})
        view = declaration_view(uow.conn, proc)
        uow.commit()
    return view


def act(engine: IncidentEngine, key: str, number: int, action: str, *, actor: str | None = None,
        principal: Any = None, reason: str | None = None) -> dict[str, Any]:
    """submit, reject (with a reason) or retire a version. Submitting a version that already has a passing
    fitness test at its declared peak also marks it tested."""
    if action not in ("submit", "reject", "retire"):
        raise ValueError(f"use approval.approve or activation.activate for {action}")
    with engine.uow() as uow:
        proc = locked_version(uow.conn, key, number)
        apply(uow.conn, proc, action, actor, {"reason": reason} if reason else None)
        if action == "submit":
            mark_tested_if_qualified(uow.conn, proc, actor)
        view = status_view(uow.conn, proc)
        uow.commit()
    return view


def status_view(conn: Connection, proc: dict[str, Any]) -> dict[str, Any]:
    """Where a version stands: status, next actions, what still blocks approval, and its history."""
    found = facts(conn, proc)
    unmet = unmet_conditions(found["version"], found["comments_open"], found["objectives"],
                             found["fitness_tests"], found["lint"], scenarios=found["scenarios"])
    return {"key": proc["key"], "version": proc["version"], "status": proc["status"],
            "allowed_actions": lifecycle.allowed_actions(proc["status"]),
            "approval_blockers": [u.as_dict() for u in unmet], "comments_open": found["comments_open"],
            "scenario_tests": found["scenarios"], "simulations": found["simulations"],
            "events": governance_rows.events(conn, proc["id"])}


def status(engine: IncidentEngine, key: str, number: int) -> dict[str, Any]:
    with engine.uow(write=False) as uow:
        return status_view(uow.conn, version_row(uow.conn, key, number))
