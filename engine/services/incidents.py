"""Use cases for incidents: start one on a procedure, read, list and cancel.

With a `principal`, a caller reads only incidents they take part in (started, or may see one of the
tasks of) and sees only their own open tasks in them; None is an internal caller, unchecked.
"""
from __future__ import annotations

import json
import re
import uuid
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from engine import clock
from engine.db import governance_rows, incident_rows, personal_rows, procedure_rows, task_rows
from engine.db.pages import bounded_page, decode_position, position_of
from engine.errors import Conflict, Invalid, NotFound, Problem
from engine.events.triggers import Trigger
from engine.forms.validate import validate_camunda_submission
from engine.identity import policy
from engine.identity.principal import Principal
from engine.records.declarations import MARKER, declared, resolve, sift

from .advance import advance
from .calls import cancel_children
from .camunda_forms import start_form
from .engine_app import IncidentEngine
from .recording import Step, child_summary, record_outcome, save_incident
from .views import incident_view

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_DATA_BYTES = 64 * 1024


def check_start_data(data: Any) -> dict[str, Any]:
    """Start data becomes workflow variables: flat JSON keys that are identifiers, size-capped."""
    if not isinstance(data, dict):
        raise Invalid("data must be a JSON object", [Problem("expected an object", field="data")])
    problems = [Problem(f"{key!r} is not a valid variable name (letters, digits, _; not starting with a digit)",
                        field=f"data.{key}") for key in data if not _NAME.match(str(key))]
    if len(json.dumps(data)) > MAX_DATA_BYTES:
        problems.append(Problem(f"data is larger than {MAX_DATA_BYTES} bytes", field="data"))
    if problems:
        raise Invalid("the incident data is not acceptable", problems)
    return data


def require_start_data(definition: Any, data: dict[str, Any]) -> None:
    """The names a procedure declares as start data (process property `start_data`) must be given: a
    regulatory clock such as the GDPR 72 hours runs from one of them, so a missing one is refused now
    rather than failing the incident later."""
    from engine.checks.declared import start_data

    missing = sorted(name for name in start_data(definition) if data.get(name) in (None, ""))
    if missing:
        raise Invalid(f"this procedure needs {', '.join(missing)} in the start data",
                      [Problem("required by the procedure's start_data", field=f"data.{name}") for name in missing])


def plain_start(definition: Any) -> Trigger | None:
    """How the API's start begins a procedure: None for its plain start event; a procedure whose only start
    event is a message, signal or timer start begins there (Camunda's initial activity); with several
    start events and no plain one, there is no way in (422)."""
    starts = definition.start_events()
    if any(node.event_kind == "none" for node in starts) or not starts:
        return None
    if len(starts) == 1:
        return Trigger(starts[0].event_kind or "message", starts[0].id, starts[0].event_name)
    listed = ", ".join(f"{n.id} ({n.event_kind} {n.event_name or ''})".replace(" )", ")") for n in starts)
    raise Invalid("this procedure has no plain start event",
                  [Problem(f"it starts on one of: {listed}; send the message or signal instead",
                           field="procedure")])


def with_initiator(definition: Any, begin: Trigger | None, data: dict[str, Any], actor: str | None) -> dict[str, Any]:
    """camunda:initiator on the start event taken: the starter's user id (None for a timer) in that variable."""
    node = definition.nodes.get(begin.element_id) if begin is not None else None
    if node is None and begin is None:
        node = next((n for n in definition.start_events() if n.event_kind == "none"), None)
    if node is None or not node.initiator:
        return data
    return {**data, node.initiator: None if actor is None or actor.startswith("system:") else actor}


def view(conn: Connection, incident_id: str) -> dict[str, Any]:
    row = incident_rows.get(conn, incident_id)
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    found = incident_view(row, task_rows.open_for(conn, [incident_id])[incident_id])
    children = incident_rows.children(conn, incident_id)
    if children:  # an incident whose call activities started child incidents lists them
        found["child_incidents"] = [child_summary(c) for c in children]
    return found


def visible_view(view: dict[str, Any], principal: Principal | None) -> dict[str, Any]:
    """An incident as the principal may see it: only the open tasks that are theirs to see."""
    if policy.visibility(principal) is None:
        return view
    return {**view, "open_tasks": [t for t in view["open_tasks"] if policy.can_see_task(principal, t)]}


def _readable(conn: Connection, incident_id: str, principal: Principal | None) -> dict[str, Any]:
    """The incident's view, or NotFound when it does not exist or the principal takes no part in it."""
    scope = policy.visibility(principal)
    if scope is not None and not incident_rows.is_visible(conn, incident_id, scope):
        raise NotFound(f"no incident {incident_id}")
    return visible_view(view(conn, incident_id), principal)


def _existing(conn: Connection, found: dict[str, Any], reference: str, test: bool,
              principal: Principal | None) -> dict[str, Any]:
    """The incident that already has this reference; someone else's, or a test incident when a live one was
    asked for (or the other way round), is a conflict, not a duplicate."""
    if bool(found.get("test")) != test:
        kind = "a test incident" if found.get("test") else "a live incident"
        raise Conflict(f"reference {reference!r} is already taken by {kind} of this procedure; use another reference",
                       reference=reference)
    try:
        return _readable(conn, found["id"], principal)
    except NotFound:
        raise Conflict(f"an incident with reference {reference!r} already exists") from None


def runnable_version(conn: Connection, procedure: str, version: int | None, test: bool) -> dict[str, Any]:
    """The version a new incident runs. Live incidents run only the active version (governance: review, a
    passing fitness test and approval come first); a test incident runs any version, by default the latest."""
    if not test and version is None:
        active = governance_rows.active(conn, procedure)
        if active is not None:
            return active
    proc = procedure_rows.get(conn, procedure, version)
    if proc is None:
        what = f"version {version} of procedure {procedure!r}" if version else f"procedure {procedure!r}"
        raise Invalid(f"there is no {what}", [Problem("unknown procedure", field="procedure")])
    if test or proc["status"] == "active":
        return proc
    return _not_live(conn, procedure, proc)


def _not_live(conn: Connection, procedure: str, proc: dict[str, Any]) -> dict[str, Any]:
    """The 409 for a live incident on a version that is not active, saying what to do instead."""
    active = governance_rows.active(conn, procedure)
    what = f"version {proc['version']} of {procedure!r} is {proc['status']}"
    if active is not None:
        detail = (f"{what}; only the active version ({active['version']}) takes live incidents. Leave out "
                  f"`version` to use it, or start a test incident with \"test\": true to run version {proc['version']}")
    else:
        detail = (f"procedure {procedure!r} has no active version, so it takes no live incidents ({what}). A version "
                  "goes live after review, a passing fitness test, approval and activation; until then, start a "
                  "test incident with \"test\": true (designers and ops)")
    raise Conflict(detail, procedure=procedure, version=proc["version"], version_status=proc["status"],
                   active_version=active["version"] if active else None)


def start(engine: IncidentEngine, *, procedure: str, version: int | None = None, reference: str | None = None,
          data: dict[str, Any] | None = None, test: bool = False, actor: str | None = None,
          principal: Principal | None = None, trigger: Trigger | None = None) -> tuple[dict[str, Any], bool]:
    """Start an incident; the same reference on the same procedure returns the existing one (created=False).

    A live incident runs the procedure's active version (a 409 says what to do when there is none, or when
    `version` names another). A test incident (`test=True`, designers and ops) runs any version, by default
    the latest; it is marked on every row it writes, never counted by monitoring, and purged after
    TEST_INCIDENT_RETENTION_DAYS. A `trigger` (a message, signal or timer) starts it at that start event
    alone; without one it starts at the plain start event (or at the only start event there is, as Camunda
    does).
    """
    policy.require(principal, policy.TEST_INCIDENTS if test else "incidents.start")
    if principal is not None:
        actor = principal.user_id
    data = check_start_data(data or {})
    with engine.uow() as uow:
        if reference:
            existing = incident_rows.by_reference(uow.conn, procedure, reference)
            if existing is not None:
                return _existing(uow.conn, existing, reference, test, principal), False
        proc = runnable_version(uow.conn, procedure, version, test)
        runtime = engine.runtime(proc)
        require_start_data(runtime.definition, data)
        begin = trigger or plain_start(runtime.definition)
        if trigger is None and begin is None:  # started at its plain start event: its Camunda form checks the data
            form = start_form(uow.conn, runtime, None)
            if form is not None:
                data = validate_camunda_submission(form[1], data)
        data = with_initiator(runtime.definition, begin, data, actor)
        runner = engine.runner(runtime)
        now = clock.now()
        kept, _personal = sift(data, declared(runtime.definition).names)  # the runner keeps the values apart
        row = {
            "id": str(uuid.uuid4()), "procedure_id": proc["id"], "procedure_key": proc["key"],
            "procedure_version": proc["version"], "reference": reference, "status": "running", "data": kept,
            "state": runner.initial_state(kept), "row_version": 1, "created_at": now, "updated_at": now,
            "created_by": actor, "test": test,
        }
        try:
            with uow.conn.begin_nested():
                incident_rows.insert(uow.conn, row)
        except IntegrityError:
            existing = incident_rows.by_reference(uow.conn, procedure, reference or "")
            if existing is None:
                raise
            return _existing(uow.conn, existing, reference or "", test, principal), False
        step = Step(row, runtime, actor, now, open_rows={}, children=[])  # a new incident: no tasks, no children
        step.event("incident_started", trigger.audit(data) if trigger else data, to_state="running")
        advance(uow.conn, step, runner, lambda: runner.start(
            data, start_event=begin.element_id if begin else None, start_kind=begin.kind if begin else "none"))
        result = visible_view(step.view() or view(uow.conn, row["id"]), principal)
        uow.commit()
    return result, True


def get(engine: IncidentEngine, incident_id: str, *, principal: Principal | None = None) -> dict[str, Any]:
    """One incident; a test incident may also be read by designers and ops who take part in it."""
    policy.require_any(principal, "incidents.read", policy.TEST_INCIDENTS)
    with engine.uow(write=False) as uow:
        row = incident_rows.get(uow.conn, incident_id)
        if row is None:
            raise NotFound(f"no incident {incident_id}")
        policy.require_on(principal, "incidents.read", row)
        found = _readable(uow.conn, incident_id, principal)
        if MARKER in (found.get("data") or {}).values():  # personal values, from the store (or erased)
            found["data"] = resolve(found["data"], personal_rows.values(uow.conn, incident_id))
        return found


def page(engine: IncidentEngine, *, status: str | None = None, procedure: str | None = None, limit: int = 50,
         cursor: str | None = None, test: bool = False,
         principal: Principal | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """Live (or, with `test`, test) incidents newest first; for a principal, only those they take part in."""
    policy.require_listing(principal, "incidents.read", test)
    position = decode_position(cursor)
    with engine.uow(write=False) as uow:
        rows = incident_rows.page(uow.conn, status=status, procedure=procedure, limit=limit, after=position,
                                  visible_to=policy.visibility(principal), test=test)
        open_tasks = task_rows.open_for(uow.conn, [r["id"] for r in rows])
    items = [visible_view(incident_view(r, open_tasks[r["id"]]), principal) for r in rows]
    return bounded_page(items, rows, limit, position_of, max_bytes=engine.settings.max_page_bytes)


def cancel(engine: IncidentEngine, incident_id: str, *, reason: str, actor: str | None = None,
           principal: Principal | None = None) -> dict[str, Any]:
    policy.require(principal, "incidents.cancel")
    if principal is not None:
        actor = principal.user_id
    with engine.uow() as uow:
        scope = policy.visibility(principal)
        incident = incident_rows.lock(uow.conn, incident_id)
        if incident is None or (scope is not None and not incident_rows.is_visible(uow.conn, incident_id, scope)):
            raise NotFound(f"no incident {incident_id}")
        if incident["status"] not in ("running", "error", "stalled"):
            raise Conflict(f"the incident is {incident['status']}; only running, failed or stalled incidents can "
                           "be cancelled")
        runtime = engine.runtime_by_id(uow.conn, incident["procedure_id"])
        outcome = engine.runner(runtime).cancel(incident["state"])
        step = Step(incident, runtime, actor, clock.now())
        step.event("incident_cancelled", {"reason": reason}, from_state=incident["status"], to_state="cancelled")
        record_outcome(uow.conn, step, outcome)
        save_incident(uow.conn, step, outcome, data=incident["data"])
        cancel_children(uow.conn, engine, incident_id, actor, step.at, f"the calling incident was cancelled: {reason}")
        result = visible_view(view(uow.conn, incident_id), principal)
        uow.commit()
    return result
