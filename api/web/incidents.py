"""An incident's page: its summary, its timeline from the audit trail, and the open tasks offered to me."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template

from engine.identity import policy
from engine.services import audit, incidents

from ..extensions import engine
from .session import signed_in

bp = Blueprint("incidents", __name__)


@bp.get("/incidents/<incident_id>")
@signed_in
def incident(incident_id: str) -> Any:
    principal = g.principal
    view = incidents.get(engine(), incident_id, principal=principal)
    timeline = audit.for_incident(engine(), incident_id, principal=principal)[-200:]
    offered = [t for t in view["open_tasks"]
               if t["assignee"] == principal.user_id or (t["assignee"] is None and policy.can_claim(principal, t))]
    return render_template("web/incident.html", incident=view, timeline=list(reversed(timeline)), offered=offered)
