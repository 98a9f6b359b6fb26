"""Firing due timers exactly once: claim an incident with a due timer, step its workflow, commit, repeat.

Whatever calls this (a Celery beat tick, the in-process scheduler, a test) only decides *when*; the
database decides *what*. A timer row goes from pending to fired in the same transaction as the workflow
step that fired it, under the incident's row lock, so two schedulers running by mistake, a retried task
or a worker killed half-way can never fire a timer twice or lose it: an interrupted transaction rolls
back and the row is still pending for the next tick.
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from engine import clock
from engine.db import incident_rows, timer_rows

from .advance import advance
from .engine_app import IncidentEngine
from .recording import Step

log = logging.getLogger("incident_engine.timers")
ACTOR = "system:timers"
# SQLite has no row locks: BEGIN IMMEDIATE already makes each firing exclusive across processes, and this
# lock keeps the threads of one process from queueing on the file lock.
_SQLITE_LOCK = threading.Lock()


def fire_due_timers(engine: IncidentEngine, *, limit: int | None = None, budget_seconds: float | None = None) -> int:
    """Fire every timer that is due now, one incident per transaction; returns how many incidents moved.

    At most `limit` incidents (default TIMER_BATCH) are handled per call, each at most once, so a timer
    the workflow does not consider due yet cannot keep the loop busy. With `budget_seconds`, no new
    incident is claimed once that much time has passed (a caller with a time limit stops cleanly).
    """
    limit = limit or engine.settings.timer_batch
    stop_at = time.monotonic() + budget_seconds if budget_seconds is not None else None
    seen: set[str] = set()
    advanced = 0
    while len(seen) < limit and (stop_at is None or time.monotonic() < stop_at):
        with _guard(engine), engine.uow() as uow:
            now = clock.now()
            incident_id = timer_rows.claim_due_incident(uow.conn, now, exclude=seen)
            if incident_id is None:
                break
            seen.add(incident_id)
            try:
                if _fire(engine, uow.conn, incident_id, now):
                    advanced += 1
                uow.commit()
            except Exception:  # noqa: BLE001 - one broken incident must not stop the others
                log.exception("firing the timers of incident %s failed; it is retried on the next tick",
                              incident_id)
    return advanced


def _guard(engine: IncidentEngine) -> AbstractContextManager[Any]:
    return _SQLITE_LOCK if engine.db.dialect.name == "sqlite" else nullcontext()


def _fire(engine: IncidentEngine, conn: Connection, incident_id: str, now: datetime) -> bool:
    incident = incident_rows.lock(conn, incident_id)
    if incident is None or incident["status"] != "running":
        return False
    runtime = engine.runtime_by_id(conn, incident["procedure_id"])
    runner = engine.runner(runtime)
    step = Step(incident, runtime, ACTOR, now)
    outcome = advance(conn, step, runner, lambda: runner.fire_timers(incident["state"]))
    fired = outcome is not None and any(tr.kind == "timer_fired" for tr in outcome.transitions)
    log.info("incident %s: %s", incident_id, "timers fired" if fired else "no timer was due after all")
    return fired
