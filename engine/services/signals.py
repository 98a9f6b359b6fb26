"""Use case: broadcast a signal to every incident waiting for it, and start one on every signal start event.

"A major incident was declared, tell every open case" is a signal. Unlike a message it has no single
receiver: every incident waiting for it (an intermediate catch, a boundary event, an event subprocess's
start) gets it, and every active procedure version with a signal start event of that name starts an
incident. A signal reaches only the incidents that wait for it when it is sent.

Bounded batches: the waits are taken SIGNAL_BATCH at a time in id order, each batch in its own
transaction (the incidents locked in id order, so two broadcasts never deadlock), and the broadcast row
keeps the last wait reached: an interrupted broadcast resumes there, from the scheduler's tick. A signal
thrown inside a procedure is recorded as a pending broadcast in the transaction of the transition that
threw it (its own incident caught it there already) and delivered to the others the same way.
"""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection

from engine import clock
from engine.db import broadcast_rows, delivery_rows, event_rows, wait_rows
from engine.db.audit_rows import known_heads
from engine.errors import Invalid, NotFound, Problem
from engine.events.correlation import check_name, check_variables
from engine.events.triggers import Trigger
from engine.identity import policy
from engine.identity.principal import Principal
from engine.runtime.events import AwaitedEvent, NotWaiting

from . import incidents
from .advance import advance
from .engine_app import IncidentEngine
from .recording import Step

log = logging.getLogger("incident_engine.signals")


def broadcast(engine: IncidentEngine, *, name: Any, variables: Any = None, actor: str | None = None,
              principal: Principal | None = None) -> dict[str, Any]:
    """Send a signal now; returns {"signal", "id", "reached", "started", "batches", "batch_size"}.

    Raises Invalid (a bad name or variables, or a name no procedure declares).
    """
    policy.require(principal, "signals.broadcast")
    if principal is not None:
        actor = principal.user_id
    name = check_name(name, "signal")
    variables = check_variables(variables)
    with engine.uow() as uow:
        if not event_rows.is_declared(uow.conn, "signal", name):
            raise Invalid(f"no procedure declares a signal named {name!r}",
                          [Problem("unknown signal name", field="name")])
        row = broadcast_rows.queue(uow.conn, name, variables, actor=actor, at=clock.now())
        starts = event_rows.active_starts(uow.conn, "signal", name)
        uow.commit()
    started = 0
    for start in starts:
        _, created = incidents.start(engine, procedure=start["procedure_key"], version=start["procedure_version"],
                                     data=variables, actor=actor,
                                     trigger=Trigger("signal", start["element_id"], name))
        started += created
    done = deliver(engine, row["id"])
    with engine.uow() as uow:
        broadcast_rows.add_started(uow.conn, row["id"], started)
        uow.commit()
    return {"signal": name, "id": row["id"], "reached": done["reached"], "started": started,
            "batches": done["batches"], "batch_size": engine.settings.signal_batch}


def deliver(engine: IncidentEngine, broadcast_id: str) -> dict[str, Any]:
    """Deliver a broadcast batch by batch until every wait it may reach had it; returns its row.

    A broadcast another worker is delivering right now is left to it (its row is locked, SKIP LOCKED)."""
    while True:
        with engine.uow() as uow:
            row = broadcast_rows.claim(uow.conn, broadcast_id)
            if row is None or row["status"] == "done":
                break
            batch = wait_rows.signal_batch(uow.conn, row["name"], after_id=row["last_wait_id"],
                                           until_id=row["until_wait_id"], limit=engine.settings.signal_batch,
                                           exclude_incident=row["origin_incident_id"])
            reached = sum(_deliver_one(engine, uow.conn, wait, row)
                          for wait in sorted(batch, key=lambda w: (w["incident_id"], w["id"])))
            broadcast_rows.advance(uow.conn, row["id"], last_wait_id=max((w["id"] for w in batch), default=None),
                                   reached=reached, done=len(batch) < engine.settings.signal_batch,
                                   at=clock.now())
            uow.commit()
    with engine.uow(write=False) as uow:
        found = broadcast_rows.get(uow.conn, broadcast_id)
    if found is None:
        raise NotFound(f"no signal broadcast {broadcast_id}")
    return found


def deliver_pending(engine: IncidentEngine, *, limit: int = 20) -> int:
    """The scheduler's tick: deliver pending (and interrupted) broadcasts; returns how many were done."""
    with engine.uow(write=False) as uow:
        ids = broadcast_rows.unfinished(uow.conn, limit=limit)
    for broadcast_id in ids:
        deliver(engine, broadcast_id)
    return len(ids)


def _deliver_one(engine: IncidentEngine, conn: Connection, wait: dict[str, Any], row: dict[str, Any]) -> int:
    """1 when the incident caught the signal. One incident's trouble never stops the broadcast."""
    locked = delivery_rows.lock(conn, wait["incident_id"])  # with its waits and chain head: one statement
    if locked is None or locked.incident["status"] != "running" \
            or not any(w["id"] == wait["id"] for w in locked.waits.values()):
        return 0
    incident = locked.incident
    runtime = engine.runtime_by_id(conn, incident["procedure_id"])
    runner = engine.runner(runtime)
    step = Step(incident, runtime, row["actor"], clock.now(), open_rows=None if locked.has_open_tasks else {})
    step.waits = locked.waits
    node = runtime.definition.nodes.get(wait["element_id"])
    step.event("signal_received", {"signal": row["name"], "broadcast": row["id"], "variables": row["variables"]},
               task_id=wait["task_id"], element_id=wait["element_id"], element_name=node.name if node else None,
               element_type=node.type if node else None)
    awaited = AwaitedEvent(wait["task_id"], wait["element_id"], "signal", wait["name"], {})
    try:
        with conn.begin_nested():  # one incident's trouble is rolled back alone
            advance(conn, step, runner, lambda: runner.deliver(incident["state"], awaited, row["variables"]))
    except NotWaiting:
        return 0
    except Exception:  # noqa: BLE001 - logged; the other incidents still get the signal
        known_heads(conn).pop(incident["id"], None)  # its chain head moved only in memory: read it again
        log.exception("signal %s could not be delivered to incident %s", row["name"], incident["id"])
        return 0
    return 1  # caught (an incident that failed on the way on is in error, with the signal audited)
