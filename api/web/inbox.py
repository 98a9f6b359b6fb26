"""The agent inbox (/inbox): the tasks I hold and my groups' unclaimed ones; claiming and giving back."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from engine.errors import Conflict
from engine.identity.policy import TEST_INCIDENTS, allowed
from engine.services import claims
from engine.services import inbox as inbox_service

from ..extensions import engine
from .session import home_for, signed_in

bp = Blueprint("inbox", __name__)


def _filters() -> dict[str, Any]:
    """Procedure and lane, and `test`: the tasks of test incidents (designers and ops only work those)."""
    found: dict[str, Any] = {name: (request.args.get(name) or "").strip()[:255] or None
                             for name in ("procedure", "lane")}
    principal = g.principal
    wanted = request.args.get("test") == "1" or not allowed(principal, "tasks.work")
    found["test"] = "1" if wanted and allowed(principal, TEST_INCIDENTS) else None  # as it goes in a link
    return found


def _queue(filters: dict[str, Any], holder: str, cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    return inbox_service.queue(engine(), g.principal, procedure=filters["procedure"], lane=filters["lane"],
                               test=bool(filters["test"]), holder=holder, limit=engine().settings.web_page_size,
                               cursor=cursor)


@bp.get("/")
@signed_in
def home() -> Any:
    return redirect(home_for(g.principal))


@bp.get("/inbox")
@signed_in
def inbox() -> Any:
    """My tasks, then my groups' unclaimed ones (paged), filtered by procedure and lane."""
    filters = _filters()
    mine, mine_next = _queue(filters, "me")
    open_tasks, open_next = _queue(filters, "nobody", request.args.get("cursor"))
    return render_template("web/inbox.html", mine=mine, mine_more=mine_next is not None, open_tasks=open_tasks,
                           next_cursor=open_next, filters=filters, may_test=allowed(g.principal, TEST_INCIDENTS),
                           may_live=allowed(g.principal, "tasks.work"),
                           refresh_seconds=engine().settings.web_refresh_seconds)


@bp.get("/inbox/group-queue")
@signed_in
def group_queue() -> Any:
    """The group queue's table alone, for the inbox to refresh itself without a reload."""
    filters = _filters()
    open_tasks, open_next = _queue(filters, "nobody", request.args.get("cursor"))
    return render_template("web/_group_queue.html", open_tasks=open_tasks, next_cursor=open_next, filters=filters)


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
