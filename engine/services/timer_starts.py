"""Timer start events: "every weekday at 09:00 run the incident review", on active procedure versions only.

Each firing is a row of start_timer_firings. The scheduler's tick (Celery beat, or the in-process
scheduler) first makes sure every timer start event of an active version has its next firing written
(two schedulers write the same row at most once: procedure, element and due time are unique), then
fires what is due, one firing at a time:
1. claim: in a short transaction, take the oldest due firing (SKIP LOCKED on PostgreSQL) and mark it
   claimed with a lease;
2. start the incident, with the firing as its reference (`timer:<firing id>`): the incident table's
   unique reference makes a second start of the same firing return the first incident;
3. mark the firing fired, with its incident.
A scheduler that dies after 1 leaves a claim whose lease runs out; the next tick claims it again and step
2 finds the incident if step 2 had committed. So every firing starts exactly one incident, audited as
`incident_started` with `by: timer`. Firings missed while no scheduler ran are caught up once (the latest
one), not one by one, as Camunda's job executor does with an overdue timer.
"""
from __future__ import annotations

import logging
import threading
import uuid
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from engine import clock
from engine.db import event_rows, firing_rows, governance_rows, procedure_rows
from engine.errors import EngineError
from engine.events.schedule import Schedule, ScheduleError, parse
from engine.events.triggers import Trigger

from . import incidents
from .engine_app import IncidentEngine

log = logging.getLogger("incident_engine.timer_starts")
ACTOR = "system:timers"
LEASE = timedelta(minutes=5)
MAX_CATCH_UP = 10_000  # firings skipped over at most when the scheduler was down a long time
_SQLITE_LOCK = threading.Lock()


def tick(engine: IncidentEngine, *, limit: int | None = None) -> int:
    """Schedule the next firings, then fire those due; returns how many incidents were started."""
    schedule_next(engine)
    return fire_due(engine, limit=limit)


def schedule_next(engine: IncidentEngine) -> int:
    """Write the next firing of every timer start event of an active version that has none pending."""
    written = 0
    with _guard(engine), engine.uow() as uow:
        now = clock.now()
        firing_rows.cancel_inactive(uow.conn, now)
        for start in event_rows.active_starts(uow.conn, "timer"):
            written += _schedule_one(uow.conn, start, now)
        uow.commit()
    return written


def _schedule_one(conn: Connection, start: dict[str, Any], now: datetime) -> int:
    last = firing_rows.latest(conn, start["procedure_id"], start["element_id"])
    if last is not None and last["status"] == "claimed":
        return 0
    try:
        schedule = parse(start["timer_kind"] or "", start["timer_expression"] or "")
    except ScheduleError as err:  # the upload checked it: only a changed rule can get here
        log.error("timer start %s of %s cannot be scheduled: %s", start["element_id"], start["procedure_key"], err)
        return 0
    live_since = _live_since(conn, start["procedure_id"])
    fired = firing_rows.count(conn, start["procedure_id"], start["element_id"])
    if last is not None and last["status"] == "pending":
        # Overdue by more than one firing (no scheduler ran): only the latest of them fires.
        latest = _next_due(schedule, last["due_at"], live_since, fired, now) if last["due_at"] <= now else None
        if latest is None or latest <= last["due_at"] or latest > now:
            return 0
        firing_rows.finish(conn, last["id"], status="missed", at=now, error="a later firing was due too")
        due: datetime | None = latest
    else:
        due = _next_due(schedule, last["due_at"] if last else live_since, live_since, fired, now)
    if due is None:
        return 0
    row = {"id": str(uuid.uuid4()), "procedure_id": start["procedure_id"], "procedure_key": start["procedure_key"],
           "element_id": start["element_id"], "due_at": due, "status": "pending", "created_at": now}
    return int(firing_rows.insert_pending(conn, row))


def _next_due(schedule: Schedule, previous: datetime, live_since: datetime, fired: int,
              now: datetime) -> datetime | None:
    """The next firing; when several are already overdue, the latest of them (caught up once)."""
    due = schedule.following(previous, live_since, fired)
    for _ in range(MAX_CATCH_UP):
        if due is None or due > now:
            break
        following = schedule.following(due, live_since, fired + 1)
        if following is None or following > now:
            break
        due, fired = following, fired + 1
    return due


def _live_since(conn: Connection, procedure_id: str) -> datetime:
    """When the version went live: its activation, or its upload when it was made active otherwise."""
    event = governance_rows.last_event(conn, procedure_id, "activate")
    if event is not None:
        return event["at"]  # type: ignore[no-any-return]
    procedure = procedure_rows.get_by_id(conn, procedure_id)
    assert procedure is not None
    return procedure["created_at"]  # type: ignore[no-any-return]


def fire_due(engine: IncidentEngine, *, limit: int | None = None) -> int:
    """Fire due firings, one at a time, at most `limit` (default TIMER_BATCH); returns incidents started."""
    started = 0
    for _ in range(limit or engine.settings.timer_batch):
        with _guard(engine), engine.uow() as uow:
            now = clock.now()
            firing = firing_rows.claim_due(uow.conn, now, now + LEASE)
            uow.commit()
        if firing is None:
            break
        started += _fire(engine, firing)
    return started


def _fire(engine: IncidentEngine, firing: dict[str, Any]) -> int:
    with engine.uow(write=False) as uow:
        procedure = procedure_rows.get_by_id(uow.conn, firing["procedure_id"])
    assert procedure is not None
    trigger = Trigger("timer", firing["element_id"], due_at=firing["due_at"])
    try:
        view, created = incidents.start(engine, procedure=procedure["key"], version=procedure["version"],
                                        reference=f"timer:{firing['id']}", actor=ACTOR, trigger=trigger)
    except EngineError as err:  # e.g. the procedure needs start data that a timer cannot give
        with _guard(engine), engine.uow() as uow:
            firing_rows.finish(uow.conn, firing["id"], status="failed", at=clock.now(), error=err.detail)
            uow.commit()
        log.warning("timer start %s of %s failed: %s", firing["element_id"], procedure["key"], err.detail)
        return 0
    with _guard(engine), engine.uow() as uow:
        firing_rows.finish(uow.conn, firing["id"], status="fired", at=clock.now(), incident_id=view["id"])
        uow.commit()
    log.info("timer start %s of %s fired: incident %s", firing["element_id"], procedure["key"], view["id"])
    return int(created)


def _guard(engine: IncidentEngine) -> AbstractContextManager[Any]:
    # SQLite: BEGIN IMMEDIATE already excludes other writers; this keeps one process's threads in line.
    return _SQLITE_LOCK if engine.db.dialect.name == "sqlite" else nullcontext()
