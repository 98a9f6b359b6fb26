"""Use cases for agent desktops: list their queue, read a task, complete it with form data.

Every function takes an optional `principal`: the edges pass the caller, who then sees only their own
tasks (someone else's is NotFound); None is an internal caller, unchecked.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine import clock
from engine.bpmn.forms import validate_submission
from engine.db import pipeline, task_order, task_rows, transition_rows
from engine.db.optimistic import optimistic
from engine.db.pages import bounded_page, decode_cursor, encode_cursor
from engine.db.tables import idempotency
from engine.errors import Conflict, Invalid, NotFound, Problem
from engine.forms.validate import validate_camunda_submission
from engine.identity import policy
from engine.identity.principal import Principal
from engine.records.declarations import refuse_markers

from .advance import advance
from .camunda_forms import form_of, task_form
from .claims import offered_task, take, visible_task
from .engine_app import IncidentEngine
from .incidents import view as incident_view
from .incidents import visible_view
from .recording import Step
from .views import task_view


def page(engine: IncidentEngine, *, state: str | None = "ready", lane: str | None = None,
         incident: str | None = None, assignee: str | None = None, unassigned: bool = False,
         limit: int = 50, cursor: str | None = None, test: bool = False, principal: Principal | None = None,
         narrowed: Any = None, sort: str = "created") -> tuple[list[dict[str, Any]], str | None]:
    """The caller's queue: the tasks they may see, narrowed by lane, incident, assignee (`me`) or unassigned,
    and by a task_search.TaskFilter (procedure, element, reference, candidate group, due window); tasks of
    live incidents, or with `test` those of test incidents."""
    policy.require_listing(principal, "tasks.work", test)
    if assignee == "me":
        if principal is None:
            raise Invalid("`assignee=me` needs an authenticated caller", [Problem("no caller", field="assignee")])
        assignee = principal.user_id
    after = decode_cursor(cursor)
    if after and (after.get("sort", "created") != sort or not isinstance(after.get("at"), list)):
        raise Invalid("the cursor belongs to another sort order", [Problem("cursor of another sort", field="cursor")])
    with engine.uow(write=False) as uow:
        try:
            rows = task_rows.page(uow.conn, state=state, lane=lane, incident=incident, limit=limit,
                                  after=after["at"] if after else None, visible_to=policy.visibility(principal),
                                  assignee=assignee, unassigned=unassigned, test=test, narrowed=narrowed,
                                  order=sort)
        except (ValueError, TypeError) as err:
            raise Invalid("the cursor is not one this service issued",
                          [Problem("malformed cursor", field="cursor")]) from err
    return bounded_page([task_view(r) for r in rows], rows, limit,
                        lambda row: encode_cursor({"sort": sort, "at": task_order.position(sort, row)}), max_bytes=engine.settings.max_page_bytes)


def get(engine: IncidentEngine, task_id: str, *, principal: Principal | None = None) -> dict[str, Any]:
    policy.require_any(principal, "tasks.work", policy.TEST_INCIDENTS)
    with engine.uow(write=False) as uow:
        view = task_view(visible_task(uow.conn, task_id, principal))
    try:
        view["camunda_form"] = task_form(engine, task_id, principal=principal)
    except Conflict as err:  # a deferred form reference still unresolved: the task is shown, its form is not
        view["camunda_form"], view["camunda_form_error"] = None, err.detail
    return view


def _request_hash(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


@optimistic  # SQLite: reads and runs the workflow before taking the writer lock (engine.db.optimistic)
def complete(engine: IncidentEngine, task_id: str, data: dict[str, Any], *, actor: str | None = None,
             idempotency_key: str | None = None, principal: Principal | None = None) -> dict[str, Any]:
    """Validate `data` against the task's form, apply it, run the engine; returns the incident.

    A principal must be the assignee; an unclaimed task they are offered is claimed in the same transaction.
    """
    policy.require_any(principal, "tasks.work", policy.TEST_INCIDENTS)
    if principal is not None:
        actor = principal.user_id
    if not isinstance(data, dict):
        raise Invalid("data must be a JSON object", [Problem("expected an object", field="data")])
    with engine.uow() as uow:
        conn = uow.conn
        # Lock the incident first (through the task), then read the task under the lock together with the
        # incident's open tasks (the rows this step syncs): two statements. Who may act is decided before
        # looking at the state, so the loser of a race to complete gets 409 from the state check, never 404.
        incident = transition_rows.lock_by_task(conn, task_id)
        found, open_rows = transition_rows.task_and_open(conn, incident["id"], task_id) if incident else (None, {})
        if incident is None or found is None:
            raise NotFound(f"no task {task_id}")
        policy.require_on(principal, "tasks.work", found)
        task = offered_task(found, task_id, principal)
        scope, digest = f"complete:{task_id}", _request_hash(data)
        if idempotency_key:
            stored = conn.execute(select(idempotency).where(
                idempotency.c.scope == scope, idempotency.c.key == idempotency_key)).mappings().first()
            if stored is not None:
                if stored["request_sha256"] != digest:
                    raise Invalid("this Idempotency-Key was used with a different request body",
                                  [Problem("key reused with another body", field="Idempotency-Key")])
                return visible_view(_revive(dict(stored["response"])), principal)
        if task["state"] != "ready":
            raise Conflict(f"the task is {task['state']}, not ready", state=task["state"])
        if incident["status"] != "running":
            raise Conflict(f"the incident is {incident['status']}", incident_status=incident["status"])
        at = clock.now()
        runtime = engine.runtime_by_id(conn, incident["procedure_id"])
        step = Step(incident, runtime, actor, at, open_rows=open_rows)
        if principal is not None:
            # its audit row goes in with the step's, and the claim itself with the task's end: one
            # compare-and-set (engine.services.recording); all rolled back if the form data is refused
            held = take(conn, task, principal, at, incident, record=step.audit.extend, later=True)
            if held["assignee"] != task["assignee"]:
                step.claim = (task_id, at)
            if task_id in open_rows:
                open_rows[task_id] = {**open_rows[task_id], "assignee": held["assignee"],
                                      "claimed_at": held["claimed_at"]}
        user_task = runtime.definition.user_task(task["element_id"])
        camunda_form = form_of(conn, runtime, task["element_id"], task.get("camunda_form_id"))
        values = validate_camunda_submission(camunda_form[1], data) if camunda_form else \
            validate_submission(user_task.form if user_task else (), data)
        refuse_markers(runtime.definition, values)
        runner = engine.runner(runtime)
        with pipeline.pipelined(conn):  # every write below goes out in one round trip (PostgreSQL)
            advance(conn, step, runner, lambda: runner.complete(incident["state"], task_id, values),
                    completed_task=task_id, submitted=values)
            result = step.view() or incident_view(conn, incident["id"])
            if idempotency_key:
                conn.execute(idempotency.insert().values(
                    scope=scope, key=idempotency_key, request_sha256=digest,
                    response=json.loads(json.dumps(result, default=_json_default)), created_at=step.at))
        uow.commit()
    return visible_view(result, principal)


_TIMES = ("created_at", "updated_at", "ended_at", "next_timer_at", "due_at", "claimed_at")


def _revive(view: dict[str, Any]) -> dict[str, Any]:
    """A stored response as the service returns it (timestamps back to datetimes)."""
    for key in _TIMES:
        if isinstance(view.get(key), str):
            view[key] = datetime.fromisoformat(view[key])
    view["open_tasks"] = [_revive(dict(t)) for t in view.get("open_tasks", [])]
    return view


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
