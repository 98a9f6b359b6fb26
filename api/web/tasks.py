"""A task's page: the incident's summary and timeline, the task's form pre-filled, completing it."""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from engine.errors import Conflict, Invalid, Problem
from engine.identity import policy
from engine.services import audit, incidents, task_search, tasks

from ..extensions import engine
from .session import signed_in

bp = Blueprint("tasks", __name__)
TIMELINE_LIMIT = 200
MAX_FORM_JSON = 64 * 1024


def submitted(fields: list[dict[str, Any]]) -> dict[str, Any]:
    """The posted form as the task API's `data`: empty inputs left out (so `required` and defaults apply as
    over JSON), a checkbox as true or false; typed conversion and validation stay in the engine."""
    data: dict[str, Any] = {}
    for field in fields:
        if field["type"] == "boolean":
            data[field["id"]] = request.form.get(field["id"]) == "true"
            continue
        raw = request.form.get(field["id"], "")
        if raw.strip() != "":
            data[field["id"]] = raw
    return data


def _page(task_id: str, *, errors: dict[str, list[str]] | None = None, general: list[str] | None = None,
          values: dict[str, Any] | None = None, status: int = 200) -> Any:
    principal = g.principal
    task = tasks.get(engine(), task_id, principal=principal)
    incident = incidents.get(engine(), task["incident_id"], principal=principal)
    fields, current = task_search.form_values(engine(), task_id, principal=principal)
    timeline = audit.for_incident(engine(), task["incident_id"], principal=principal)[-TIMELINE_LIMIT:]
    return render_template(
        "web/task.html", task=task, incident=incident, fields=fields, values=values or current,
        errors=errors or {}, general=general or [], timeline=list(reversed(timeline)),
        can_claim=task["state"] == "ready" and task["assignee"] is None and policy.can_claim(principal, task),
        mine=task["assignee"] == principal.user_id), status


@bp.get("/tasks/<task_id>")
@signed_in
def task(task_id: str) -> Any:
    return _page(task_id)


def camunda_submitted() -> dict[str, Any]:
    """A Camunda Form's data, posted as one JSON object (what form-js collected); the engine validates it."""
    raw = request.form.get("data") or "{}"
    if len(raw) > MAX_FORM_JSON:
        raise Invalid("the form data is too large", [Problem(f"at most {MAX_FORM_JSON} bytes", field="data")])
    try:
        data = json.loads(raw)
    except ValueError as err:
        raise Invalid("the form data is not JSON", [Problem(str(err), field="data")]) from err
    if not isinstance(data, dict):
        raise Invalid("the form data must be an object", [Problem("expected an object", field="data")])
    return data


@bp.post("/tasks/<task_id>/complete")
@signed_in
def complete(task_id: str) -> Any:
    """Complete with the posted form; refused data is shown again with each message beside its field."""
    fields, _ = task_search.form_values(engine(), task_id, principal=g.principal)
    found = tasks.get(engine(), task_id, principal=g.principal)
    name = found["name"] or "the task"
    posted: dict[str, Any] | None = None
    try:
        if found.get("camunda_form"):
            posted = data = camunda_submitted()
        else:
            data = submitted(fields)
        result = tasks.complete(engine(), task_id, data, principal=g.principal)
    except Invalid as err:
        by_field: dict[str, list[str]] = {}
        general: list[str] = []
        for p in err.problems:
            (by_field.setdefault(p.field, []) if p.field else general).append(p.message)
        if posted is not None:  # form-js shows the fields: the server's messages go above it, by field
            general = [*general, *(f"{key}: {'; '.join(messages)}" for key, messages in by_field.items())]
        values = posted if posted is not None else {f["id"]: request.form.get(f["id"]) for f in fields}
        return _page(task_id, errors=by_field, general=general or [err.detail or "The form has errors."],
                     values=values, status=422)
    except Conflict as err:
        flash(f"The task could not be completed: {err.detail}", "warning")
        return redirect(url_for("web.inbox.inbox"))
    flash(f"Completed “{name}”.", "info")
    return redirect(next_task_url(result))


def next_task_url(incident: dict[str, Any]) -> str:
    """The incident's next task if it is mine or offered to me; else the incident's page."""
    principal = g.principal
    for open_task in incident.get("open_tasks") or []:
        if open_task["assignee"] == principal.user_id or (
                open_task["assignee"] is None and policy.can_claim(principal, open_task)):
            return url_for("web.tasks.task", task_id=open_task["id"])
    return url_for("web.incidents.incident", incident_id=incident["id"])
