"""Taking work: claim, unclaim and assign a ready task, each an audited transition with its actor."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from engine import clock
from engine.db import audit_rows, incident_rows, task_rows
from engine.errors import Conflict, Forbidden, Invalid, NotFound, Problem
from engine.identity import policy
from engine.identity.principal import Principal

from .engine_app import IncidentEngine
from .views import task_view


def visible_task(conn: Connection, task_id: str, principal: Principal | None) -> dict[str, Any]:
    """The task row, or NotFound when it does not exist or is someone else's (no difference shown);
    Forbidden first for a caller whose roles do not work tasks (of live incidents)."""
    task = task_rows.get(conn, task_id)
    if task is not None:
        policy.require_on(principal, "tasks.work", task)
    if task is None or not policy.can_see_task(principal, task):
        raise NotFound(f"no task {task_id}")
    return task


def offered_task(task: dict[str, Any] | None, task_id: str, principal: Principal | None) -> dict[str, Any]:
    """A task to act on (claim, release, assign, complete), judged as of the row just read.

    Who may act is decided as if the task were still ready, so the loser of a race (the task was
    completed or cancelled a moment ago, and they would no longer "see" it) always gets the 409 the state
    calls for from the caller's next check, never a 404; a caller it was never offered to gets 404.
    """
    if task is not None:
        policy.require_on(principal, "tasks.work", task)
    if task is None or not (policy.can_see_task(principal, task)
                            or policy.can_see_task(principal, {**task, "state": "ready"})):
        raise NotFound(f"no task {task_id}")
    return task


Record = Callable[[list[dict[str, Any]]], None]


def _audit(conn: Connection, task: dict[str, Any], kind: str, actor: str | None, at: datetime,
           previous: str | None, assignee: str | None, incident: dict[str, Any] | None = None,
           record: Record | None = None) -> None:
    incident = incident or incident_rows.get(conn, task["incident_id"])
    assert incident is not None
    (record or (lambda rows: audit_rows.append(conn, rows)))([{
        "incident_id": task["incident_id"], "procedure_key": task["procedure_key"],
        "procedure_version": incident["procedure_version"], "kind": kind, "task_id": task["id"],
        "element_id": task["element_id"], "element_name": task["name"], "element_type": "userTask",
        "from_state": "ready", "to_state": "ready", "actor": actor, "at": at,
        "data": {"assignee": assignee, "previous": previous}, "test": bool(incident.get("test")),
    }])


def _change(conn: Connection, task: dict[str, Any], kind: str, actor: str | None, assignee: str | None,
            at: datetime, incident: dict[str, Any] | None = None, record: Record | None = None) -> dict[str, Any]:
    """Compare-and-set the assignee from what we read; losing a race is a 409 naming the new holder."""
    if task["state"] != "ready":
        raise Conflict(f"the task is {task['state']}, not ready", state=task["state"])
    previous = task["assignee"]
    if not task_rows.set_assignee(conn, task["id"], assignee, at, previous=previous):
        now = task_rows.get(conn, task["id"]) or task
        if now["state"] != "ready":
            raise Conflict(f"the task is {now['state']}, not ready", state=now["state"])
        if now["assignee"] == assignee:
            return now  # the same change won a moment earlier (a double click): done, and audited once
        raise Conflict(f"the task is claimed by {now['assignee']}" if now["assignee"]
                       else "the task was released meanwhile; reload and retry", assignee=now["assignee"])
    _audit(conn, task, kind, actor, at, previous, assignee, incident, record)
    return {**task, "assignee": assignee, "claimed_at": at if assignee else None}


def take(conn: Connection, task: dict[str, Any], principal: Principal, at: datetime,
         incident: dict[str, Any] | None = None, record: Record | None = None, *,
         later: bool = False) -> dict[str, Any]:
    """Make the principal the task's assignee (a no-op when they already are); 409 when someone else is.

    `record` receives the claim's audit rows instead of inserting them now (a transition that writes its
    audit rows in one statement). `later`: decide and audit the claim but leave the compare-and-set to the
    caller (a completion writes it with the task's end, engine.services.recording.Step.claim)."""
    if task["state"] != "ready":
        raise Conflict(f"the task is {task['state']}, not ready", state=task["state"])
    if task["assignee"] == principal.user_id:
        return task
    if task["assignee"] is not None:
        raise Conflict(f"the task is claimed by {task['assignee']}", assignee=task["assignee"])
    if not policy.can_claim(principal, task):
        raise Forbidden("the task is not offered to you")
    if later:
        _audit(conn, task, "task_claimed", principal.user_id, at, None, principal.user_id, incident, record)
        return {**task, "assignee": principal.user_id, "claimed_at": at}
    return _change(conn, task, "task_claimed", principal.user_id, principal.user_id, at, incident, record)


def claim(engine: IncidentEngine, task_id: str, *, principal: Principal) -> dict[str, Any]:
    """A candidate takes a ready task; exactly one of several concurrent claims wins."""
    policy.require_any(principal, "tasks.work", policy.TEST_INCIDENTS)
    with engine.uow() as uow:
        task = offered_task(task_rows.get(uow.conn, task_id), task_id, principal)
        task = take(uow.conn, task, principal, clock.now())
        uow.commit()
    return task_view(task)


def unclaim(engine: IncidentEngine, task_id: str, *, principal: Principal | None,
            actor: str | None = None) -> dict[str, Any]:
    """The assignee (or a supervisor) gives a task back to its candidates; unassigned already is a no-op."""
    policy.require_any(principal, "tasks.work", policy.TEST_INCIDENTS)
    with engine.uow() as uow:
        task = offered_task(task_rows.get(uow.conn, task_id), task_id, principal)
        if task["assignee"] is None and task["state"] == "ready":
            return task_view(task)
        if not policy.can_release(principal, task):
            raise Forbidden(f"only {task['assignee']} or a supervisor can release this task")
        who = principal.user_id if principal else actor
        task = _change(uow.conn, task, "task_unclaimed", who, None, clock.now())
        uow.commit()
    return task_view(task)


def assign(engine: IncidentEngine, task_id: str, user: str, *, principal: Principal | None,
           actor: str | None = None) -> dict[str, Any]:
    """A supervisor gives a ready task to a user, taking it from whoever held it."""
    policy.require(principal, "tasks.assign")
    user = (user or "").strip()
    if not user or len(user) > 255:
        raise Invalid("name the user to assign", [Problem("a user id of 1 to 255 characters", field="user")])
    with engine.uow() as uow:
        task = offered_task(task_rows.get(uow.conn, task_id), task_id, principal)
        if task["assignee"] == user and task["state"] == "ready":
            return task_view(task)
        who = principal.user_id if principal else actor
        task = _change(uow.conn, task, "task_assigned", who, user, clock.now())
        uow.commit()
    return task_view(task)
