"""Starting an incident from a procedure's start form: its reference, summary, priority and declared start data."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, render_template, request

from engine.errors import Conflict, Invalid
from engine.identity import policy
from engine.services import incidents, procedures

from ..extensions import engine
from .session import signed_in
from .tasks import next_task_url

bp = Blueprint("starting", __name__)
ALWAYS = ("summary", "priority")
PRIORITIES = ("P1", "P2", "P3", "P4")


def _testing() -> bool:
    """Whether this person starts test incidents (designers, ops) rather than live ones (agents, supervisors)."""
    return not policy.allowed(g.principal, "incidents.start")


def _live_procedures() -> list[dict[str, Any]]:
    """What the form offers: the active versions; for test incidents, any version (the latest by default)."""
    rows = procedures.search(engine(), principal=g.principal)
    if _testing():
        wanted = request.values.get("version")
        latest = {r["key"]: r for r in procedures.latest(engine(), principal=g.principal)}
        if wanted and wanted.isdigit():
            chosen = [r for r in rows if r["key"] == request.values.get("procedure") and r["version"] == int(wanted)]
            latest.update({r["key"]: r for r in chosen})
        return sorted(latest.values(), key=lambda r: r["key"])
    return sorted((r for r in rows if r["status"] == "active"), key=lambda r: r["key"])


def start_fields(proc: dict[str, Any]) -> list[str]:
    """The names the start form asks for: summary and priority, then the procedure's declared start data."""
    declared = ((proc.get("summary") or {}).get("properties") or {}).get("start_data") or ""
    names = [n.strip() for n in str(declared).split(",") if n.strip()]
    return list(dict.fromkeys([*ALWAYS, *names]))


def _form(status: int = 200, **context: Any) -> Any:
    live = _live_procedures()
    chosen = next((p for p in live if p["key"] == (request.values.get("procedure") or "")), None)
    return render_template("web/start.html", live=live, chosen=chosen, priorities=PRIORITIES, testing=_testing(),
                           fields=start_fields(chosen) if chosen else [], values=request.form,
                           errors=context.pop("errors", {}), general=context.pop("general", []),
                           **context), status


@bp.get("/incidents/new")
@signed_in
def new() -> Any:
    policy.require_any(g.principal, "incidents.start", policy.TEST_INCIDENTS)
    return _form()


@bp.post("/incidents")
@signed_in
def start() -> Any:
    """Start a live incident on the procedure's active version (or a test incident on the chosen version),
    with the form's values as its data."""
    policy.require_any(g.principal, "incidents.start", policy.TEST_INCIDENTS)
    key = (request.form.get("procedure") or "").strip()
    live = {p["key"]: p for p in _live_procedures()}
    if key not in live:
        return _form(422, general=["Choose a procedure that is live."])
    data = {name: request.form.get(name, "").strip() for name in start_fields(live[key])
            if request.form.get(name, "").strip()}
    reference = (request.form.get("reference") or "").strip() or None
    try:
        testing = _testing()
        view, _created = incidents.start(engine(), procedure=key, reference=reference, data=data,
                                         test=testing, version=live[key]["version"] if testing else None,
                                         principal=g.principal)
    except Invalid as err:
        errors: dict[str, list[str]] = {}
        for p in err.problems:
            errors.setdefault((p.field or "").removeprefix("data."), []).append(p.message)
        return _form(422, errors=errors, general=[err.detail or "The form has errors."])
    except Conflict as err:
        return _form(409, general=[err.detail or "The procedure cannot start an incident now."])
    return redirect(next_task_url(view))
