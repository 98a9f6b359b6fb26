"""Separation of duties for procedure decisions: nobody approves or rejects a version they uploaded.

The approve and reject use cases call `require_decider` before they record a decision, so every edge that
decides (HTTP, the CLI, a worker, the first-start bootstrap) inherits the rule.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.errors import Forbidden
from engine.identity import policy
from engine.identity.principal import Principal


def check_separation_of_duties(procedure: Mapping[str, Any], principal: Principal | None,
                               decision: str = "approve") -> None:
    """Forbidden when the decider is the uploader, or is nobody in particular (a decision needs a person)."""
    if principal is None:
        raise Forbidden(f"a decision to {decision} a version must be made by an authenticated person")
    _not_the_uploader(procedure, principal.user_id, decision)


def check_can_decide(procedure: Mapping[str, Any], principal: Principal | None, decision: str = "approve") -> None:
    """An approver (or admin) who did not upload this version."""
    if principal is not None:
        policy.require(principal, "procedures.approve")
    check_separation_of_duties(procedure, principal, decision)


def require_decider(procedure: Mapping[str, Any], actor: str | None, principal: Principal | None,
                    decision: str) -> None:
    """The rule for a use case: with a principal, identity's rule decides; an internal caller (no principal)
    is judged by the actor it names, and must name one so the decision is audited with a name."""
    if principal is not None:
        check_can_decide(procedure, principal, decision)
        return
    if actor is None:
        raise Forbidden(f"a decision to {decision} a version needs a named decider, so it is audited with a name")
    _not_the_uploader(procedure, actor, decision)


def _not_the_uploader(procedure: Mapping[str, Any], decider: str, decision: str) -> None:
    uploader = procedure.get("created_by")
    if uploader is not None and uploader == decider:
        raise Forbidden(f"the uploader of a version cannot {decision} it: {decider} uploaded version "
                        f"{procedure.get('version')} of {procedure.get('key')}; another approver must", uploader=uploader,
                        procedure=procedure.get("key"), version=procedure.get("version"))
