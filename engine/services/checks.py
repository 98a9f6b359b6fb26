"""Use cases for mandatory checks: an incident's check status, a supervisor's override, adherence, lint findings."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from engine import clock
from engine.checks.adherence import Figures, figures, incident_status
from engine.checks.declared import check_gateways
from engine.db import check_rows, incident_rows, procedure_rows
from engine.errors import Conflict, Forbidden, Invalid, NotFound, Problem
from engine.runtime.override import NothingToOverride

from .advance import advance
from .engine_app import IncidentEngine
from .incidents import view as incident_view
from .procedures import version as procedure_version
from .recording import Step

OVERRIDE_ROLES = frozenset({"supervisor", "admin"})
MAX_REASON = 2000


def incident_checks(engine: IncidentEngine, incident_id: str) -> list[dict[str, Any]]:
    """Each check the incident reached: its outcome, attempts, whether it passed first time, overrides."""
    with engine.uow(write=False) as uow:
        if incident_rows.get(uow.conn, incident_id) is None:
            raise NotFound(f"no incident {incident_id}")
        return incident_status(check_rows.for_incident(uow.conn, incident_id))


def _roles(principal: Any) -> set[str]:
    roles = principal.get("roles") if isinstance(principal, Mapping) else getattr(principal, "roles", None)
    return {str(r) for r in roles or ()}


def override_check(engine: IncidentEngine, incident_id: str, check_name: str, *, reason: str,
                   actor: str | None, principal: Any = None) -> dict[str, Any]:
    """Declare a failed check passed despite the data: the incident leaves the fail path and takes the
    check's pass flow now. Audited as `check_overridden` with the actor and the reason.

    `principal`, when given, must hold a supervisor or admin role (Forbidden otherwise). Conflict when the
    incident is not running or the check's latest outcome is not a failure with work pending behind it;
    repeating the override that took effect (same actor, same reason) returns the incident unchanged.
    """
    if principal is not None and not _roles(principal) & OVERRIDE_ROLES:
        raise Forbidden("only a supervisor or an admin may override a check")
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise Invalid("an override needs a written reason", [Problem(
            f"give a reason of 1 to {MAX_REASON} characters", field="reason")])
    with engine.uow() as uow:
        conn = uow.conn
        incident = incident_rows.lock(conn, incident_id)
        if incident is None:
            raise NotFound(f"no incident {incident_id}")
        runtime = engine.runtime_by_id(conn, incident["procedure_id"])
        if check_name not in {c.name for c in check_gateways(runtime.definition).values()}:
            raise NotFound(f"procedure {runtime.key} v{runtime.version} has no check named {check_name!r}")
        if incident["status"] != "running":
            raise Conflict(f"the incident is {incident['status']}", incident_status=incident["status"])
        results = [r for r in check_rows.for_incident(conn, incident_id) if r["check_name"] == check_name]
        latest = results[-1]["outcome"] if results else "not reached"
        if latest == "overridden" and results[-1]["reason"] == reason and results[-1]["actor"] == actor:
            return incident_view(conn, incident_id)  # a retry of the override that took effect
        if latest != "failed":
            raise Conflict(f"check {check_name!r} is {latest}; only a failed check can be overridden",
                           outcome=latest)
        runner = engine.runner(runtime)
        step = Step(incident, runtime, actor, clock.now())

        def act() -> Any:
            try:
                outcome = runner.override_check(incident["state"], results[-1]["gateway_id"])
            except NothingToOverride as err:
                raise Conflict(f"check {check_name!r} cannot be overridden now: {err}") from err
            outcome.transitions = [replace(tr, data={**(tr.data or {}), "reason": reason})
                                   if tr.kind == "check_overridden" else tr for tr in outcome.transitions]
            return outcome

        advance(conn, step, runner, act)
        result = incident_view(conn, incident_id)
        uow.commit()
    return result


def adherence(engine: IncidentEngine, key: str, *, since: datetime | None = None,
              version: int | None = None) -> dict[str, Any]:
    """Per procedure version, per check: incidents that reached it, passed first time, failed then passed,
    were overridden, or are still failing (see engine.checks.adherence for the exact categories)."""
    with engine.uow(write=False) as uow:
        versions = procedure_rows.versions(uow.conn, key)
        if not versions:
            raise NotFound(f"no procedure with key {key!r}")
        if version is not None and not any(v["version"] == version for v in versions):
            raise NotFound(f"procedure {key!r} has no version {version}")
        counted = figures(check_rows.for_procedure(uow.conn, key, version), since)
    items = []
    for row in versions:
        if version is not None and row["version"] != version:
            continue
        by_check = counted.get(row["version"], {})
        declared = [c["check"] for c in (row.get("summary") or {}).get("checks", [])]
        names = list(dict.fromkeys([*declared, *sorted(by_check)]))
        items.append({"version": row["version"],
                      "checks": [{"check": name, **by_check.get(name, Figures()).as_dict()} for name in names]})
    return {"procedure": key, "since": since, "versions": items}


def lint_findings(engine: IncidentEngine, key: str, number: int) -> dict[str, Any]:
    """The lint findings stored with a version (computed from its BPMN for a version stored without)."""
    row = procedure_version(engine, key, number)
    findings = (row.get("summary") or {}).get("lint")
    if findings is None:
        from engine.checks.lint import lint

        findings = [f.as_dict() for f in lint(engine.runtime(row).definition)]
    return {"procedure": key, "version": number, "findings": findings,
            "errors": sum(1 for f in findings if f["severity"] == "error"),
            "warnings": sum(1 for f in findings if f["severity"] != "error")}
