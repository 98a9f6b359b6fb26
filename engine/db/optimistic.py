"""On SQLite, a transition computes before it takes the writer lock, and is run again under it if it read too early.

SQLite has one writer lock for the whole database, and BEGIN IMMEDIATE takes it when the unit of work
starts: a task completion then held it for all its work (reading, running SpiffWorkflow, serializing,
sealing audit rows), about 6 ms of CPU of which one process can do at most ~150 a second, so every
completion of every incident queued behind every other, whatever the number of processes.

A use case marked `@optimistic` (engine.services.tasks.complete) runs its first write unit of work
deferred instead: it reads in a plain snapshot transaction, computes, and at its first write statement
(engine.db.database's hook calls `upgrade`) takes the writer lock (engine.db.sqlite_writers), ends the
snapshot, starts BEGIN IMMEDIATE on the latest data and checks that the audit chain head of every
incident it read is where it was read: every change to an incident (every transition, claim, assignment,
erasure) is audited, so an unmoved head means nothing the transition read has changed. Then its writes
go in, in one transaction, behind the same guards as ever (the incident's row version, the task's
compare-and-set, the chain head's). If the head moved, or anything fails after the upgrade, the use case
is run again from the start, pessimistically (BEGIN IMMEDIATE first, as every other unit of work): its
answer is then exactly what it would have been. A failure before the upgrade came from one consistent
snapshot and stands. PostgreSQL is unchanged (row locks already let transitions of different incidents
run side by side).
"""
from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
STATE = "incident_engine.optimistic"  # conn.info: the Attempt of a deferred unit of work until it upgrades


class StaleRead(Exception):
    """An incident this unit of work read changed before it could write: run the use case again."""


@dataclass
class Attempt:
    """The first write unit of work of an `@optimistic` call: deferred (`used`) until it `upgraded`."""

    used: bool = False
    upgraded: bool = False
    failed: bool = False
    lock: Any = None  # the writer lock to take at the upgrade (engine.db.sqlite_writers), let go by the unit of work


_ATTEMPT: contextvars.ContextVar[Attempt | None] = contextvars.ContextVar("incident_engine_optimistic", default=None)


def take() -> Attempt | None:
    """For a SQLite write unit of work starting now: the attempt it runs deferred, or None (pessimistic).
    Only the first write unit of work of an `@optimistic` call is deferred."""
    attempt = _ATTEMPT.get()
    if attempt is None or attempt.used:
        return None
    attempt.used = True
    return attempt


def optimistic(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` with its first SQLite write unit of work deferred; again, pessimistically, if that one read
    too early (StaleRead) or failed after taking the writer lock."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        if _ATTEMPT.get() is not None:  # nested inside another optimistic call: that one decides
            return fn(*args, **kwargs)
        attempt = Attempt()
        token = _ATTEMPT.set(attempt)
        try:
            return fn(*args, **kwargs)
        except Exception:
            if not attempt.failed:
                raise
        finally:
            _ATTEMPT.reset(token)
        return fn(*args, **kwargs)  # pessimistic: nothing of the first try was kept

    return run


def upgrade(raw: Any, attempt: Attempt, heads: dict[str, tuple[int, str]]) -> None:
    """Turn the deferred transaction on `raw` (the sqlite3 connection) into a write transaction on the latest
    data; StaleRead when a chain head read before has moved since. The writer lock is held from here on."""
    if attempt.lock is not None:
        attempt.lock.acquire()
    attempt.upgraded = True
    raw.execute("ROLLBACK")  # nothing was written: this only ends the old snapshot
    raw.execute("BEGIN IMMEDIATE")
    for incident_id, (seq, _hash) in heads.items():
        now = raw.execute("SELECT seq FROM audit_chain_heads WHERE incident_id = ?", (incident_id,)).fetchone()
        if now is None or int(now[0]) != seq:
            raise StaleRead(f"incident {incident_id} changed while this request ran")
