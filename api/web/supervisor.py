"""The supervisor's view (/supervisor): queue sizes per lane, reassigning a task, incidents in error."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from engine.errors import Conflict, Invalid
from engine.identity import policy
from engine.services import claims, failures, queues
from engine.services import inbox as inbox_service

from ..extensions import engine
from .session import signed_in

bp = Blueprint("supervisor", __name__)


@bp.get("/supervisor")
@signed_in
def supervisor() -> Any:
    """Lanes with their sizes and oldest ages; a lane's tasks (any holder) to reassign; incidents in error."""
    principal = g.principal
    policy.require(principal, "tasks.assign")
    lane = (request.args.get("lane") or "").strip()[:255] or None
    lane_tasks: list[dict[str, Any]] = []
    next_cursor = None
    if lane:
        lane_tasks, next_cursor = inbox_service.queue(
            engine(), principal, lane=lane, holder="anyone", limit=engine().settings.web_page_size,
            cursor=request.args.get("cursor"))
    in_error = failures.search(engine(), kind="failed_incident", principal=principal) \
        if policy.allowed(principal, "failures.read") else []
    return render_template("web/supervisor.html", lanes=queues.lane_sizes(engine(), principal=principal),
                           lane=lane, lane_tasks=lane_tasks, next_cursor=next_cursor, in_error=in_error[:100])


@bp.post("/tasks/<task_id>/assign")
@signed_in
def assign(task_id: str) -> Any:
    """Give a task to a user (taking it from whoever held it); a refused name is a message, not a page."""
    lane = request.form.get("lane") or None
    try:
        task = claims.assign(engine(), task_id, request.form.get("user", ""), principal=g.principal)
    except (Conflict, Invalid) as err:
        flash(f"The task was not reassigned: {err.detail}", "warning")
    else:
        flash(f"“{task['name'] or task['element_id']}” is now assigned to {task['assignee']}.", "info")
    return redirect(url_for(".supervisor", lane=lane))
