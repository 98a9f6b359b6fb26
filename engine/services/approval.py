"""Use case for approvers: approve a version, only when every governance condition is met.

The conditions (engine.governance.approval): no lint errors, no open review comment, at least one
objective served, a passing fitness test of these exact bytes at or above the declared peak, and the
version's scenario tests run on these bytes, all passing, taking every sequence flow (or declaring it
not testable, with a reason the approver reads in the version's status). A
refusal is one 409 listing every unmet condition. Nobody approves a version they uploaded (403).
"""
from __future__ import annotations

from typing import Any

from engine.errors import Conflict, Forbidden
from engine.governance import lifecycle
from engine.governance.approval import unmet_conditions

from . import approvals
from .engine_app import IncidentEngine
from .governance import apply, facts, locked_version, mark_tested_if_qualified, status_view

# Approval is judged from these statuses: a version in review is told what it lacks (it lacks at least a
# qualifying fitness test, or it would have been marked tested); anything else is a lifecycle conflict.
_JUDGED = ("in_review", "tested")


def _require_decider(proc: dict[str, Any], actor: str | None, principal: Any = None) -> None:
    """The uploader never approves their own version, and an approval always names its approver.

    With a principal, identity's rule decides (engine.services.approvals); internal callers are judged by
    the actor they name.
    """
    if principal is not None:
        approvals.check_can_decide(proc, principal)
        return
    if actor is None:
        raise Forbidden("approval needs an authenticated approver, so the decision is audited with a name")
    if proc.get("created_by") is not None and proc["created_by"] == actor:
        raise Forbidden(f"{actor} uploaded version {proc['version']} of {proc['key']} and cannot approve it; "
                        "another approver must", uploader=proc["created_by"])


def approve(engine: IncidentEngine, key: str, number: int, *, actor: str | None = None, principal: Any = None,
            note: str | None = None) -> dict[str, Any]:
    with engine.uow() as uow:
        proc = locked_version(uow.conn, key, number)
        if proc["status"] not in _JUDGED:
            lifecycle.transition(proc["status"], "approve")  # raises the Conflict naming the allowed actions
        _require_decider(proc, actor, principal)
        found = facts(uow.conn, proc)
        unmet = unmet_conditions(found["version"], found["comments_open"], found["objectives"],
                                 found["fitness_tests"], found["lint"], scenarios=found["scenarios"])
        if unmet:
            raise Conflict(f"version {number} of {key} cannot be approved yet: "
                           + "; ".join(u.message for u in unmet),
                           current_status=proc["status"], unmet=[u.as_dict() for u in unmet])
        if proc["status"] == "in_review":
            mark_tested_if_qualified(uow.conn, proc, actor)
        evidence = [t["id"] for t in found["fitness_tests"] if t["status"] == "passed" and t["sha256"] == proc["sha256"]]
        run = found["scenarios"]["run"]
        apply(uow.conn, proc, "approve", actor, {"note": note, "fitness_tests": evidence,
                                                 "objectives": [o["id"] for o in found["objectives"]],
                                                 "scenario_run": run["id"] if run else None,
                                                 "not_testable": found["scenarios"]["not_testable"],
                                                 "simulations": [s["id"] for s in found["simulations"]]})
        view = status_view(uow.conn, proc)
        uow.commit()
    return view
