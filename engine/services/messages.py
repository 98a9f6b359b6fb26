"""Use case: correlate a message to the incident waiting for it (or start one on a message start event).

Camunda 7's semantics (MessageCorrelationBuilder.correlate / correlateAll), with our business reference as
its business key and variable equalities as its correlation keys:
- exactly one waiting incident matches: the message is delivered there, in one transaction with the
  transition it causes, audited as `message_correlated`;
- none waits: the one active procedure version with a message start event of that name starts an
  incident (several such procedures are a conflict unless `all`);
- none waits and none starts on it: NotFound, naming what was looked for. A message is never kept for an
  incident that waits for it later (Camunda refuses it too);
- more than one matches: Conflict listing the incidents, unless `all`.
A name no procedure declares is Invalid (422), so a typo is never mistaken for "nobody is waiting".
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection

from engine import clock
from engine.db import delivery_rows, event_rows, incident_rows, pipeline, wait_rows
from engine.errors import Conflict, Invalid, NotFound, Problem
from engine.events.correlation import Correlation, check_variables, decide, parse
from engine.events.triggers import Trigger
from engine.identity import policy
from engine.identity.principal import Principal
from engine.runtime.events import AwaitedEvent, NotWaiting

from . import incidents
from .advance import advance
from .engine_app import IncidentEngine
from .recording import Step

MAX_ALL = 500  # deliveries of one `all` correlation (one transaction); a broadcast to more is a signal
SHOWN = 20  # matching incidents listed in a conflict


def correlate(engine: IncidentEngine, *, name: Any, reference: Any = None, correlation: Any = None,
              variables: Any = None, all: bool = False, incident_id: str | None = None, starts_only: bool = False,
              actor: str | None = None, principal: Principal | None = None) -> dict[str, Any]:
    """Deliver a message; returns {"message", "results": [{incident, element_id, started}]}.

    `incident_id` narrows it to that incident's waits (no start event is considered, as Camunda's
    processInstanceId does); `starts_only` considers only message start events (startMessagesOnly).

    Raises Invalid (bad request or unknown name), NotFound (nothing matches), Conflict (several match
    without `all`, or the wait was taken by a concurrent correlation: nothing was delivered then).
    """
    policy.require(principal, "messages.correlate")
    if principal is not None:
        actor = principal.user_id
    request = parse(name, reference=reference, correlation=correlation, variables=variables, all=all)
    scope = policy.correlation_scope(principal)
    with engine.uow() as uow:
        waits = [] if starts_only else wait_rows.matching(
            uow.conn, "message", request.name, reference=request.reference, keys=request.keys,
            limit=(MAX_ALL if all else SHOWN) + 1, visible_to=scope, incident_id=incident_id)
        # a name something waits for is declared: the check costs a round trip only when nothing matched
        if not waits and not event_rows.is_declared(uow.conn, "message", request.name):
            raise Invalid(f"no procedure declares a message named {request.name!r}",
                          [Problem("unknown message name", field="name")])
        starts = event_rows.active_starts(uow.conn, "message", request.name) \
            if incident_id is None and (all or not waits) else []
        decision = decide(waits, starts, all=all)
        if decision.outcome == "not_found":
            raise NotFound(f"no incident waits for {request.describe()}, and no active procedure starts on it",
                           message=request.name)
        if decision.outcome == "ambiguous":
            _ambiguous(request, list(decision.deliver), list(decision.start))
        if len(decision.deliver) > MAX_ALL:
            raise Conflict(f"more than {MAX_ALL} incidents wait for {request.describe()}; narrow the "
                           "correlation, or broadcast a signal")
        results = [_deliver(engine, uow.conn, wait, request, actor, principal, strict=not all)
                   for wait in sorted(decision.deliver, key=lambda w: (w["incident_id"], w["id"]))]
        uow.commit()
    results = [r for r in results if r is not None]
    for start in decision.start:
        results.append(_start(engine, start, request, actor, principal))
    return {"message": request.name, "results": results}


def trigger(engine: IncidentEngine, incident_id: str, element_id: str, *, variables: Any = None,
            actor: str | None = None, principal: Principal | None = None) -> dict[str, Any]:
    """Move an incident on from a wait state: a receive task without a message (Camunda's
    `RuntimeService.signal(executionId)`, REST `POST /execution/{id}/signal`); returns the incident.

    Raises NotFound (no such incident, or not one the caller takes part in), Conflict (it does not wait
    at that element), Invalid (bad variables).
    """
    policy.require(principal, "messages.correlate")
    if principal is not None:
        actor = principal.user_id
    payload = check_variables(variables)
    scope = policy.correlation_scope(principal)
    with engine.uow() as uow:
        incident = incident_rows.lock(uow.conn, incident_id)
        if incident is None or (scope is not None and not incident_rows.is_visible(uow.conn, incident_id, scope)):
            raise NotFound(f"no incident {incident_id}")
        waits = wait_rows.matching(uow.conn, "trigger", element_id, limit=2, incident_id=incident_id)
        if incident["status"] != "running" or not waits:
            raise Conflict(f"the incident does not wait at {element_id!r} (a receive task without a message)",
                           incident_status=incident["status"])
        wait = waits[0]
        runtime = engine.runtime_by_id(uow.conn, incident["procedure_id"])
        runner = engine.runner(runtime)
        step = Step(incident, runtime, actor, clock.now())
        step.event("wait_triggered", {"variables": payload}, task_id=wait["task_id"], element_id=element_id,
                   element_name=_name_of(runtime, element_id), element_type=runtime.node_type(element_id))
        awaited = AwaitedEvent(wait["task_id"], element_id, "trigger", element_id, {})
        try:
            advance(uow.conn, step, runner, lambda: runner.deliver(incident["state"], awaited, payload))
        except NotWaiting:
            raise Conflict(f"the incident no longer waits at {element_id!r}") from None
        view = incidents.visible_view(step.view() or incidents.view(uow.conn, incident_id), principal)
        uow.commit()
    return view


def _ambiguous(request: Correlation, waits: list[dict[str, Any]], starts: list[dict[str, Any]]) -> None:
    if waits:
        ids = list(dict.fromkeys(w["incident_id"] for w in waits))
        more = len(waits) > SHOWN
        raise Conflict(f"{'more than ' if more else ''}{len(waits) - more} waits match {request.describe()}; "
                       "narrow the correlation (reference, variables) or send it to all",
                       incidents=ids[:SHOWN])
    raise Conflict(f"{len(starts)} active procedures start on message {request.name!r}; send it to all",
                   procedures=[s["procedure_key"] for s in starts])


def _deliver(engine: IncidentEngine, conn: Connection, wait: dict[str, Any], request: Correlation,
             actor: str | None, principal: Principal | None, *, strict: bool) -> dict[str, Any] | None:
    """One delivery under the incident's lock. When a concurrent correlation took the wait first, the
    message goes to the wait that replaced it (a non-interrupting boundary listens again) if there is
    exactly one; otherwise it is a Conflict for a single correlation and skipped for `all`."""
    # One statement: the lock, the incident's waits as they are now (a racing delivery may have committed
    # first) and its audit chain head; the waits also serve the transition's bookkeeping (Step.waits)
    locked = delivery_rows.lock(conn, wait["incident_id"])
    incident = locked.incident if locked is not None else None
    stored = locked.waits if locked is not None else {}
    fresh = next((w for w in stored.values() if w["id"] == wait["id"]), None)
    if fresh is None and incident is not None:
        again = wait_rows.matching(conn, "message", request.name, reference=request.reference, keys=request.keys,
                                   limit=2, incident_id=incident["id"])
        fresh = again[0] if len(again) == 1 else None
    if incident is None or incident["status"] != "running" or fresh is None:
        if strict:
            raise Conflict(f"the incident stopped waiting for message {request.name!r} while this request ran "
                           "(another correlation took it); nothing was delivered", incident=wait["incident_id"])
        return None
    assert locked is not None
    runtime = engine.runtime_by_id(conn, incident["procedure_id"])
    runner = engine.runner(runtime)
    step = Step(incident, runtime, actor, clock.now(), open_rows=None if locked.has_open_tasks else {})
    step.waits = stored
    step.event("message_correlated", {
        "message": request.name, "reference": request.reference,
        "correlation": {k: json.loads(v) for k, v in request.keys.items()}, "variables": request.variables,
    }, task_id=fresh["task_id"], element_id=fresh["element_id"],
        element_name=_name_of(runtime, fresh["element_id"]), element_type=runtime.node_type(fresh["element_id"]))
    awaited = AwaitedEvent(fresh["task_id"], fresh["element_id"], "message", request.name, {})
    try:  # nothing is written before the workflow has run, so a refusal here leaves no trace
        with pipeline.pipelined(conn):  # every write of the transition goes out in one round trip (PostgreSQL)
            advance(conn, step, runner, lambda: runner.deliver(incident["state"], awaited, request.variables))
            found = step.view() or incidents.view(conn, incident["id"])
    except NotWaiting:
        if strict:
            raise Conflict(f"the incident is no longer waiting for message {request.name!r} there",
                           incident=incident["id"]) from None
        return None
    view = incidents.visible_view(found, principal)
    return {"incident": view, "element_id": fresh["element_id"], "started": False}


def _start(engine: IncidentEngine, start: dict[str, Any], request: Correlation, actor: str | None,
           principal: Principal | None) -> dict[str, Any]:
    trigger = Trigger("message", start["element_id"], request.name)
    view, created = incidents.start(engine, procedure=start["procedure_key"], version=start["procedure_version"],
                                    reference=request.reference, data=request.variables, actor=actor,
                                    trigger=trigger)
    if not created:
        raise Conflict(f"an incident with reference {request.reference!r} already exists on procedure "
                       f"{start['procedure_key']!r} and it does not wait for message {request.name!r}",
                       incident=view["id"])
    return {"incident": incidents.visible_view(view, principal), "element_id": start["element_id"], "started": True}


def _name_of(runtime: Any, element_id: str) -> str | None:
    node = runtime.definition.nodes.get(element_id)
    return node.name if node is not None else None
