"""Use cases for external-task workers: fetch and lock, complete, fail, raise a BPMN error, extend, unlock.

The lock is the task's row: `fetch_and_lock` takes fetchable rows of the worker's topics with
`FOR UPDATE SKIP LOCKED` (PostgreSQL), so any number of API processes and workers share them, and sets
`worker_id` and `lock_expires_at` in the same short transaction. A lock that runs out makes the task
fetchable again. Finishing a task needs the worker that holds it; each step is audited with the worker id.

Long polling: with nothing to fetch, a fetch waits for engine.db.wakeup (LISTEN/NOTIFY on PostgreSQL) or
for the moment a lock or retry timeout runs out, whichever is first, and tries again until its deadline.
The edge passes `park`, which moves the waiting request off the server's working threads (api/serving.py).
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from engine import clock
from engine.db import audit_rows, external_task_rows, incident_rows
from engine.db.wakeup import WAKEUP
from engine.errors import Conflict, Invalid, NotFound, Problem
from engine.identity import policy
from engine.identity.principal import Principal

from .advance import advance
from .engine_app import IncidentEngine
from .incidents import check_start_data
from .recording import Step

MAX_WAIT_SECONDS = 1800.0  # Camunda's cap on asyncResponseTimeout
MAX_TASKS = 100
SQLITE_RECHECK_SECONDS = 10.0  # other processes cannot wake us on SQLite (there is no NOTIFY)


@dataclass(frozen=True)
class TopicRequest:
    name: str
    lock_ms: int
    variables: tuple[str, ...] | None = None  # None: all
    process_variables: dict[str, Any] = field(default_factory=dict)  # equality filter on variables
    business_key: str | None = None
    procedure_keys: tuple[str, ...] = ()
    procedure_ids: tuple[str, ...] = ()
    include_properties: bool = False


def may_serve(principal: Principal | None, topic: str) -> bool:
    """Workers serve the topics their groups name (`*`: every topic); admins and internal callers all."""
    if principal is None or principal.is_admin:
        return True
    return "*" in principal.groups or topic in principal.groups


def _visible(principal: Principal | None, row: dict[str, Any]) -> bool:
    return may_serve(principal, row["topic"]) or policy.allowed(principal, "external_tasks.retry")


def _row(conn: Connection, task_id: str, principal: Principal | None, *, lock: bool = False) -> dict[str, Any]:
    row = external_task_rows.get(conn, task_id, lock=lock)
    if row is None or not _visible(principal, row):
        raise NotFound(f"External task with id {task_id} does not exist")
    return row


def _audit(conn: Connection, row: dict[str, Any], kind: str, actor: str | None, at: datetime,
           data: dict[str, Any]) -> None:
    audit_rows.append(conn, [{
        "incident_id": row["incident_id"], "procedure_key": row["procedure_key"],
        "procedure_version": row["procedure_version"], "kind": kind, "task_id": row["id"],
        "element_id": row["element_id"], "element_name": row["element_name"], "element_type": "serviceTask",
        "from_state": None, "to_state": None, "actor": actor, "at": at, "data": data}])


def _locked_view(row: dict[str, Any], data: dict[str, Any], request: TopicRequest) -> dict[str, Any]:
    variables = {**(row["variables"] or {}), **data}
    if request.variables is not None:
        variables = {k: v for k, v in variables.items() if k in request.variables}
    return {**row, "variables": variables,
            "properties": dict(row["properties"] or {}) if request.include_properties else {}}


def _matches(row: dict[str, Any], data: dict[str, Any], request: TopicRequest) -> bool:
    merged = {**(row["variables"] or {}), **data}
    return ((request.business_key is None or row["reference"] == request.business_key)
            and (not request.procedure_keys or row["procedure_key"] in request.procedure_keys)
            and (not request.procedure_ids or row["procedure_id"] in request.procedure_ids)
            and all(merged.get(k) == v for k, v in request.process_variables.items()))


def _choose(conn: Connection, by_name: dict[str, TopicRequest], now: datetime, max_tasks: int, by_priority: bool,
            newest_first: bool) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Lock exactly the rows this fetch takes, so a concurrent fetch skips no task it could have had.

    Without filters on variables or keys, the first `max_tasks` fetchable rows are locked at once. With
    them, candidates are read unlocked, matched against their incident's data, and only the chosen ones
    locked (SKIP LOCKED, re-checked as still fetchable)."""
    topics = list(by_name)
    filtered = any(t.process_variables or t.business_key or t.procedure_keys or t.procedure_ids
                   for t in by_name.values())
    rows = external_task_rows.lockable(conn, topics, now, limit=500 if filtered else max_tasks,
                                       by_priority=by_priority, newest_first=newest_first, lock=not filtered)
    datas = {r["incident_id"]: (incident_rows.get(conn, r["incident_id"]) or {}).get("data") or {} for r in rows}
    if filtered:
        chosen = [r["id"] for r in rows if _matches(r, datas[r["incident_id"]], by_name[r["topic"]])][:max_tasks]
        rows = external_task_rows.lockable(conn, topics, now, limit=max_tasks, by_priority=by_priority,
                                           newest_first=newest_first, ids=chosen) if chosen else []
    return rows, datas


def _lock(engine: IncidentEngine, worker_id: str, topics: list[TopicRequest], max_tasks: int,
          by_priority: bool, newest_first: bool, actor: str | None) -> tuple[list[dict[str, Any]], datetime | None]:
    """One attempt: lock what is fetchable now; also when the next task becomes fetchable by itself."""
    by_name = {t.name: t for t in topics}
    with engine.uow() as uow:
        conn, now = uow.conn, clock.now()
        rows, datas = _choose(conn, by_name, now, max_tasks, by_priority, newest_first)
        taken: list[dict[str, Any]] = []
        for row in rows:
            request = by_name[row["topic"]]
            expires = now + timedelta(milliseconds=request.lock_ms)
            external_task_rows.update(conn, row["id"], {"worker_id": worker_id, "lock_expires_at": expires})
            _audit(conn, row, "external_task_locked", actor, now,
                   {"worker_id": worker_id, "topic": row["topic"], "lock_expires_at": expires.isoformat()})
            taken.append(_locked_view({**row, "worker_id": worker_id, "lock_expires_at": expires},
                                      datas[row["incident_id"]], request))
        if len(taken) == max_tasks:  # there may be more: let other waiting fetches look once this commits
            for topic in {t["topic"] for t in taken}:
                external_task_rows.announce_topic(conn, topic)
        next_at = None if taken else external_task_rows.next_available(conn, list(by_name), now)
        uow.commit()
    return taken, next_at


def fetch_and_lock(engine: IncidentEngine, *, worker_id: str, topics: list[TopicRequest], max_tasks: int = 1,
                   by_priority: bool = False, newest_first: bool = False, wait_seconds: float = 0.0,
                   park: Callable[[], contextlib.AbstractContextManager[bool]] | None = None,
                   principal: Principal | None = None) -> list[dict[str, Any]]:
    """Lock up to `max_tasks` tasks of the topics the worker may serve; with none, wait up to
    `wait_seconds` for one (woken by a notification, never by polling)."""
    policy.require(principal, "external_tasks.work")
    problems = [Problem(m, field=f) for f, m in (
        ("workerId", "a worker id of 1 to 255 characters" if not worker_id or len(worker_id) > 255 else ""),
        ("maxTasks", f"between 1 and {MAX_TASKS}" if not 1 <= max_tasks <= MAX_TASKS else ""),
        ("topics", "at least one topic" if not topics else "")) if m]
    problems += [Problem("lockDuration must be positive", field=f"topics.{t.name}") for t in topics if t.lock_ms <= 0]
    if problems:
        raise Invalid("the fetch request is not acceptable", problems)
    allowed = [t for t in topics if may_serve(principal, t.name)]
    if not allowed:
        return []
    actor = principal.user_id if principal else None
    deadline = time.monotonic() + min(max(wait_seconds, 0.0), MAX_WAIT_SECONDS)
    if engine.db.dialect.name == "postgresql":
        WAKEUP.listen(engine.settings.database_url)
    parked: contextlib.AbstractContextManager[bool] | None = contextlib.nullcontext(True) if park is None else park()
    with contextlib.ExitStack() as stack:
        while True:
            seen = WAKEUP.generation()
            taken, next_at = _lock(engine, worker_id, allowed, max_tasks, by_priority, newest_first, actor)
            left = deadline - time.monotonic()
            if taken or left <= 0 or WAKEUP.closed:  # closed: the server is stopping, answer now
                return taken
            if parked is not None:
                if not stack.enter_context(parked):
                    return []  # no room to wait without holding a working thread: answer now, empty
                parked = None
            pause = left if next_at is None else min(left, max((next_at - clock.now()).total_seconds(), 0.05))
            if engine.db.dialect.name != "postgresql":
                pause = min(pause, SQLITE_RECHECK_SECONDS)
            WAKEUP.wait(seen, pause)


def _held(row: dict[str, Any], worker_id: str, what: str) -> None:
    """Finishing needs the worker that holds the lock (Camunda does not check the lock's expiry here)."""
    if row["state"] != "open":
        raise NotFound(f"External task with id {row['id']} does not exist (it is {row['state']})")
    if row["worker_id"] != worker_id:
        holder = row["worker_id"]
        raise Conflict(f"External Task {row['id']} cannot be {what} by worker '{worker_id}'. It is locked by "
                       + (f"worker '{holder}'." if holder else "no worker."), lock_holder=holder or "")


def _variables(raw: dict[str, Any] | None) -> dict[str, Any]:
    return check_start_data(raw or {})


def _finish(engine: IncidentEngine, task_id: str, worker_id: str, principal: Principal | None, what: str,
            act: Callable[[Any, Step, Any, dict[str, Any]], None]) -> None:
    """Lock the incident and the task's row, check the worker, run `act` (the workflow step) and commit."""
    policy.require(principal, "external_tasks.work")
    with engine.uow() as uow:
        conn = uow.conn
        row = _row(conn, task_id, principal)
        incident = incident_rows.lock(conn, row["incident_id"])
        assert incident is not None
        row = _row(conn, task_id, principal, lock=True)  # re-read under the incident lock
        _held(row, worker_id, what)
        if incident["status"] != "running":
            raise Conflict(f"the incident is {incident['status']}", incident_status=incident["status"])
        runtime = engine.runtime_by_id(conn, incident["procedure_id"])
        step = Step(incident, runtime, principal.user_id if principal else worker_id, clock.now())
        act(conn, step, engine.runner(runtime), row)
        uow.commit()


def complete(engine: IncidentEngine, task_id: str, *, worker_id: str, variables: dict[str, Any] | None = None,
             local_variables: dict[str, Any] | None = None, principal: Principal | None = None) -> None:
    """The worker finished the job: its variables join the incident data and the workflow moves on."""
    values, local = _variables(variables), _variables(local_variables)

    def act(conn: Any, step: Step, runner: Any, row: dict[str, Any]) -> None:
        step.event("external_task_completed", {"worker_id": worker_id, "variables": sorted(values),
                                               "local_variables": local}, task_id=task_id,
                   element_id=row["element_id"], element_name=row["element_name"], element_type="serviceTask")
        advance(conn, step, runner, lambda: runner.finish_service(step.incident["state"], task_id, values),
                completed_task=task_id, submitted={"worker_id": worker_id, **values})
        external_task_rows.update(conn, task_id, {"state": "completed", "ended_at": step.at,
                                                  "lock_expires_at": None})

    _finish(engine, task_id, worker_id, principal, "completed", act)


def bpmn_error(engine: IncidentEngine, task_id: str, *, worker_id: str, code: str, message: str | None = None,
               variables: dict[str, Any] | None = None, principal: Principal | None = None) -> None:
    """The worker reports a business error: the task's error boundary event for `code` takes over."""
    if not code or len(code) > 255:
        raise Invalid("an errorCode is required", [Problem("1 to 255 characters", field="errorCode")])
    values = _variables(variables)

    def act(conn: Any, step: Step, runner: Any, row: dict[str, Any]) -> None:
        step.event("external_task_bpmn_error", {"worker_id": worker_id, "error_code": code, "message": message},
                   task_id=task_id, element_id=row["element_id"], element_name=row["element_name"],
                   element_type="serviceTask")
        try:
            advance(conn, step, runner, lambda: runner.throw_error(step.incident["state"], task_id, code, values, message),
                    submitted=values)
        except LookupError as err:
            raise Invalid(str(err), [Problem("no boundary event catches it", field="errorCode")]) from None
        external_task_rows.update(conn, task_id, {"state": "completed", "ended_at": step.at,
                                                  "lock_expires_at": None, "error_message": message})

    _finish(engine, task_id, worker_id, principal, "reported", act)


def failure(engine: IncidentEngine, task_id: str, *, worker_id: str, message: str | None, details: str | None,
            retries: int, retry_timeout_ms: int = 0, principal: Principal | None = None) -> None:
    """The job failed: fetchable again after `retry_timeout_ms` while retries remain; at 0 it becomes a
    visible failure (Camunda's incident) until someone sets retries again."""
    if retries < 0 or retry_timeout_ms < 0:
        raise Invalid("retries and retryTimeout must not be negative",
                      [Problem("at least 0", field="retries" if retries < 0 else "retryTimeout")])
    policy.require(principal, "external_tasks.work")
    with engine.uow() as uow:
        conn, now = uow.conn, clock.now()
        row = _row(conn, task_id, principal, lock=True)
        _held(row, worker_id, "failed")
        state = "open" if retries > 0 else "failed"
        external_task_rows.update(conn, task_id, {
            "retries": retries, "state": state, "error_message": (message or "")[:4000] or None,
            "error_details": (details or "")[:65536] or None, "worker_id": None, "lock_expires_at": None,
            "available_at": now + timedelta(milliseconds=retry_timeout_ms)}, announce_topic=row["topic"])
        _audit(conn, row, "external_task_failed", principal.user_id if principal else worker_id, now,
               {"worker_id": worker_id, "retries": retries, "retry_timeout_ms": retry_timeout_ms,
                "error_message": message})
        uow.commit()


def extend_lock(engine: IncidentEngine, task_id: str, *, worker_id: str, duration_ms: int,
                principal: Principal | None = None) -> None:
    policy.require(principal, "external_tasks.work")
    if duration_ms <= 0:
        raise Invalid("newDuration must be positive", [Problem("at least 1 ms", field="newDuration")])
    with engine.uow() as uow:
        conn, now = uow.conn, clock.now()
        row = _row(conn, task_id, principal, lock=True)
        _held(row, worker_id, "extended")
        if row["lock_expires_at"] is None or row["lock_expires_at"] <= now:
            raise Conflict(f"External task {task_id} is not locked any more: fetch it again",
                           lock_holder=row["worker_id"] or "")
        expires = now + timedelta(milliseconds=duration_ms)
        external_task_rows.update(conn, task_id, {"lock_expires_at": expires})
        _audit(conn, row, "external_task_lock_extended", principal.user_id if principal else worker_id, now,
               {"worker_id": worker_id, "lock_expires_at": expires.isoformat()})
        uow.commit()


def unlock(engine: IncidentEngine, task_id: str, *, principal: Principal | None = None) -> None:
    """Release the lock (whoever holds it), so the task is fetchable at once."""
    policy.require(principal, "external_tasks.work")
    with engine.uow() as uow:
        conn, now = uow.conn, clock.now()
        row = _row(conn, task_id, principal, lock=True)
        if row["state"] != "open":
            raise NotFound(f"External task with id {task_id} does not exist (it is {row['state']})")
        external_task_rows.update(conn, task_id, {"worker_id": None, "lock_expires_at": None},
                                  announce_topic=row["topic"])
        _audit(conn, row, "external_task_unlocked", principal.user_id if principal else None, now,
               {"worker_id": row["worker_id"]})
        uow.commit()


def set_retries(engine: IncidentEngine, task_id: str, retries: int, *, principal: Principal | None = None) -> None:
    """An operator gives a failed task new retries: it leaves the failures list and is fetchable again."""
    policy.require(principal, "external_tasks.retry")
    if retries < 0:
        raise Invalid("retries must not be negative", [Problem("at least 0", field="retries")])
    with engine.uow() as uow:
        conn, now = uow.conn, clock.now()
        row = _row(conn, task_id, principal, lock=True)
        if row["state"] not in ("open", "failed"):
            raise NotFound(f"External task with id {task_id} does not exist (it is {row['state']})")
        external_task_rows.update(conn, task_id, {"retries": retries, "state": "open" if retries else "failed",
                                                  "available_at": None}, announce_topic=row["topic"])
        _audit(conn, row, "external_task_retries_set", principal.user_id if principal else None, now,
               {"retries": retries, "previous": row["retries"]})
        uow.commit()


def search(engine: IncidentEngine, *, principal: Principal | None = None, **filters: Any) -> list[dict[str, Any]]:
    """External tasks (open and failed unless `states` says otherwise) of the topics the caller may see."""
    policy.require(principal, "external_tasks.read")
    filters.setdefault("states", ["open", "failed"])
    with engine.uow(write=False) as uow:
        rows = external_task_rows.search(uow.conn, now=clock.now(), **filters)
    return [r for r in rows if _visible(principal, r)]


def get(engine: IncidentEngine, task_id: str, *, principal: Principal | None = None) -> dict[str, Any]:
    policy.require(principal, "external_tasks.read")
    with engine.uow(write=False) as uow:
        return _row(uow.conn, task_id, principal)
