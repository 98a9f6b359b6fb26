"""The agent inbox (/inbox): the tasks I hold and my groups' unclaimed ones; claiming and giving back."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from engine.errors import Conflict
from engine.services import claims
from engine.services import inbox as inbox_service

from ..extensions import engine
from .session import signed_in

bp = Blueprint("inbox", __name__)


def _filters() -> dict[str, Any]:
    return {name: (request.args.get(name) or "").strip()[:255] or None for name in ("procedure", "lane")}


@bp.get("/")
def home() -> Any:
    return redirect(url_for(".inbox"))


@bp.get("/inbox")
@signed_in
def inbox() -> Any:
    """My tasks, then my groups' unclaimed ones (paged), filtered by procedure and lane."""
    size = engine().settings.web_page_size
    filters = _filters()
    mine, mine_next = inbox_service.queue(engine(), g.principal, mine=True, limit=size, **filters)
    open_tasks, open_next = inbox_service.queue(engine(), g.principal, limit=size, cursor=request.args.get("cursor"),
                                        **filters)
    return render_template("web/inbox.html", mine=mine, mine_more=mine_next is not None, open_tasks=open_tasks,
                           next_cursor=open_next, filters=filters)


@bp.post("/tasks/<task_id>/claim")
@signed_in
def claim(task_id: str) -> Any:
    """Take a task; one someone else won is a plain message on the inbox, not an error page."""
    try:
        claims.claim(engine(), task_id, principal=g.principal)
    except Conflict as err:
        flash(f"Someone else got there first: {err.detail}", "warning")
        return redirect(url_for(".inbox"))
    return redirect(url_for("web.tasks.task", task_id=task_id))


@bp.post("/tasks/<task_id>/unclaim")
@signed_in
def unclaim(task_id: str) -> Any:
    try:
        claims.unclaim(engine(), task_id, principal=g.principal)
    except Conflict as err:
        flash(f"The task could not be given back: {err.detail}", "warning")
    else:
        flash("The task is back in its group's queue.", "info")
    return redirect(url_for(".inbox"))
