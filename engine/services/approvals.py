"""Separation of duties for procedure approval: nobody approves (or rejects) a version they uploaded.

The approval use case calls `check_can_decide` before it records a decision, so every edge that
approves (HTTP, CLI, a worker) inherits the rule.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.errors import Forbidden
from engine.identity import policy
from engine.identity.principal import Principal


def check_separation_of_duties(procedure: Mapping[str, Any], principal: Principal | None) -> None:
    """Forbidden when the decider is the uploader, or is nobody in particular (a decision needs a person)."""
    if principal is None:
        raise Forbidden("an approval decision must be made by an authenticated person")
    uploader = procedure.get("created_by")
    if uploader is not None and uploader == principal.user_id:
        raise Forbidden("the uploader of a version cannot approve it",
                        procedure=procedure.get("key"), version=procedure.get("version"))


def check_can_decide(procedure: Mapping[str, Any], principal: Principal | None) -> None:
    """An approver (or admin) who did not upload this version."""
    if principal is not None:
        policy.require(principal, "procedures.approve")
    check_separation_of_duties(procedure, principal)
