"""Telling the edges what the engine committed (for Prometheus counters); a no-op until someone listens.

The audit rows a transaction appends are noted on its connection; just before the unit of work commits,
the user tasks it completed are timed (wait: ready to claimed, work: claimed to completed) in the same
transaction; after the commit every listener gets the batch. A rolled-back transaction reports nothing.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection, select

log = logging.getLogger("incident_engine.observe")
_KEY = "incident_engine.observe.audit"
_ENDED = "incident_engine.observe.ended"


@dataclass(frozen=True)
class TaskTiming:
    procedure: str
    element_id: str
    lane: str | None
    wait_s: float
    work_s: float | None


@dataclass(frozen=True)
class Batch:
    audit: Sequence[Mapping[str, Any]] = ()
    tasks: Sequence[TaskTiming] = field(default_factory=tuple)


class Observer(Protocol):
    def committed(self, batch: Batch) -> None: ...


_observers: list[Observer] = []


def listen(observer: Observer) -> None:
    """Register a listener once (listening twice is a no-op)."""
    if not any(o is observer for o in _observers):
        _observers.append(observer)


def forget(observer: Observer) -> None:
    _observers[:] = [o for o in _observers if o is not observer]


def note_audit(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Remember audit rows written on `conn` until its transaction commits (only when someone listens).

    Rows of test incidents are left out: monitoring, and so the counters, never count them."""
    live = [r for r in rows if not r.get("test")] if _observers else []
    if live:
        conn.info.setdefault(_KEY, []).extend(live)


def note_task_ended(conn: Connection, row: Mapping[str, Any], ended_at: Any) -> None:
    """Remember the timing of a user task this transaction completes, from its row already in memory, so
    that `collect` needs no read (only when someone listens)."""
    if not _observers or row.get("test") or row.get("created_at") is None:
        return
    created, claimed = row["created_at"], row.get("claimed_at")
    conn.info.setdefault(_ENDED, {})[row["id"]] = TaskTiming(
        row["procedure_key"], row["element_id"], row.get("lane"), ((claimed or ended_at) - created).total_seconds(),
        (ended_at - claimed).total_seconds() if claimed else None)


def discard(conn: Connection) -> None:
    conn.info.pop(_KEY, None)
    conn.info.pop(_ENDED, None)


def collect(conn: Connection) -> Batch | None:
    """Take the noted rows off `conn` and time the user tasks they completed (call before committing)."""
    rows = conn.info.pop(_KEY, None)
    known: dict[str, TaskTiming] = conn.info.pop(_ENDED, None) or {}
    if not rows or not _observers:
        return None
    done = [r["task_id"] for r in rows if r.get("element_type") == "userTask" and r.get("kind") == "task"
            and r.get("to_state") == "completed" and r.get("task_id")]
    timings = [known[t] for t in done if t in known]
    done = [t for t in done if t not in known]  # ended by a path that did not note them: read them
    if done:
        from engine.db.tables import tasks

        query = select(tasks.c.procedure_key, tasks.c.element_id, tasks.c.lane, tasks.c.created_at,
                       tasks.c.claimed_at, tasks.c.ended_at).where(tasks.c.id.in_(done))
        for key, element, lane, created, claimed, ended in conn.execute(query).all():
            if ended is None:
                continue
            timings.append(TaskTiming(key, element, lane, ((claimed or ended) - created).total_seconds(),
                                      (ended - claimed).total_seconds() if claimed else None))
    return Batch(tuple(rows), tuple(timings))


def publish(batch: Batch | None) -> None:
    """Hand a committed batch to every listener; a failing listener never fails the request."""
    if batch is None:
        return
    for observer in list(_observers):
        try:
            observer.committed(batch)
        except Exception:  # noqa: BLE001 - observability must not break a committed transition
            log.exception("observer %r failed", observer)
