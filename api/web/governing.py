"""Governance from the workbench: submit, approve, reject, activate, retire a version, and resolve comments.

Each button calls the same service as the /api/v1 governance endpoint; a refusal (an unmet condition, the
approver's own upload, a status that does not allow it) comes back as a message on the version's page."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, request, url_for

from engine.errors import Conflict, Forbidden, Invalid, NotFound, Problem
from engine.identity import policy
from engine.services import activation, approval, comments, governance

from ..extensions import engine
from .session import signed_in

bp = Blueprint("governing", __name__)
# action -> the permission the API's endpoint requires
ACTIONS = {"submit": "procedures.govern", "approve": "procedures.approve", "reject": "procedures.approve",
           "activate": "procedures.activate", "retire": "procedures.activate"}


def actions_for(principal: Any, allowed_actions: list[str]) -> list[str]:
    """The governance buttons to show: allowed from the version's status and by the person's roles."""
    return [a for a in allowed_actions if a in ACTIONS and policy.allowed(principal, ACTIONS[a])]


def _back(key: str, number: int) -> Any:
    return redirect(url_for("web.procedures.version", key=key, number=number) + "#governance")


@bp.post("/procedures/<key>/versions/<int:number>/actions/<action>")
@signed_in
def act(key: str, number: int, action: str) -> Any:
    if action not in ACTIONS:
        raise NotFound(f"no governance action {action!r}")
    principal = g.principal
    policy.require(principal, ACTIONS[action])
    actor = principal.user_id
    try:
        if action == "approve":
            approval.approve(engine(), key, number, actor=actor, principal=principal,
                             note=(request.form.get("note") or "").strip() or None)
        elif action == "activate":
            activation.activate(engine(), key, number, actor=actor, principal=principal)
        elif action == "reject":
            reason = (request.form.get("reason") or "").strip()
            if not reason or len(reason) > 2000:
                raise Invalid("a rejection needs a reason", [Problem("give a reason of 1 to 2000 characters",
                                                                     field="reason")])
            governance.act(engine(), key, number, "reject", actor=actor, principal=principal, reason=reason)
        else:
            governance.act(engine(), key, number, action, actor=actor, principal=principal)
    except (Conflict, Forbidden, Invalid) as err:
        flash(f"Not done: {err.detail}", "warning")
    else:
        flash(f"Done: {action}.", "info")
    return _back(key, number)


@bp.post("/procedures/<key>/versions/<int:number>/comments/<comment_id>/resolve")
@signed_in
def resolve(key: str, number: int, comment_id: str) -> Any:
    policy.require(g.principal, "comments.write")
    reply = (request.form.get("reply") or "").strip()
    if not reply or len(reply) > 4000:
        flash("Resolving a comment needs a reply of 1 to 4000 characters saying what was done.", "warning")
    else:
        try:
            comments.resolve(engine(), key, number, comment_id, reply=reply, actor=g.principal.user_id,
                             principal=g.principal)
        except Conflict as err:
            flash(f"Not resolved: {err.detail}", "warning")
        else:
            flash("Comment resolved.", "info")
    return redirect(url_for("web.procedures.version", key=key, number=number) + "#comments")
