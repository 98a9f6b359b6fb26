"""An incident's page: summary, timeline from the audit trail, its checks (a supervisor may override a failed
one with a reason), and the open tasks offered to me."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from engine.errors import Conflict, Invalid
from engine.identity import policy
from engine.services import audit, checks, incidents

from ..extensions import engine
from .session import signed_in

bp = Blueprint("incidents", __name__)
TIMELINE_LIMIT = 200


def offered_to_me(view: dict[str, Any]) -> list[dict[str, Any]]:
    principal = g.principal
    return [t for t in view["open_tasks"]
            if t["assignee"] == principal.user_id or (t["assignee"] is None and policy.can_claim(principal, t))]


@bp.get("/incidents/<incident_id>")
@signed_in
def incident(incident_id: str) -> Any:
    principal = g.principal
    view = incidents.get(engine(), incident_id, principal=principal)
    timeline = audit.for_incident(engine(), incident_id, principal=principal)[-TIMELINE_LIMIT:]
    reached = checks.incident_checks(engine(), incident_id) if policy.allowed(principal, "checks.read") else []
    return render_template("web/incident.html", incident=view, timeline=list(reversed(timeline)),
                           offered=offered_to_me(view), checks=reached,
                           may_override=policy.allowed(principal, "checks.override") and view["status"] == "running")


@bp.post("/incidents/<incident_id>/checks/<name>/override")
@signed_in
def override(incident_id: str, name: str) -> Any:
    """A supervisor declares a failed check passed, with a written reason (audited with the actor)."""
    principal = g.principal
    incidents.get(engine(), incident_id, principal=principal)  # 404 unless they may see it
    try:
        checks.override_check(engine(), incident_id, name, reason=request.form.get("reason", ""),
                              actor=principal.user_id, principal=principal)
    except (Invalid, Conflict) as err:
        flash(f"The check was not overridden: {err.problems[0].message if err.problems else err.detail}", "warning")
    else:
        flash(f"Check “{name}” overridden; the incident takes its pass path.", "info")
    return redirect(url_for(".incident", incident_id=incident_id))
