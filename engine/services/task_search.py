"""Finding tasks with the filters agent desktops use, and reading a task's form values.

Candidate queries follow Camunda: tasks offered to a group (or a user) are listed only while nobody holds
them, unless `include_assigned`. A caller sees only the tasks they may see (engine.identity.policy).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.db import incident_rows, task_rows
from engine.identity import policy
from engine.identity.principal import Principal

from .claims import visible_task
from .engine_app import IncidentEngine
from .views import task_view


@dataclass(frozen=True)
class TaskFilter:
    incident: str | None = None
    reference: str | None = None
    procedure: str | None = None
    procedure_id: str | None = None
    element_id: str | None = None
    name: str | None = None
    assignee: str | None = None
    unassigned: bool = False
    candidate_groups: tuple[str, ...] = ()
    candidate_user: str | None = None
    candidate_user_groups: tuple[str, ...] = ()  # the groups of candidate_user, when known
    include_assigned: bool = False
    due_before: datetime | None = None
    due_after: datetime | None = None
    follow_up_before: datetime | None = None
    follow_up_after: datetime | None = None
    min_priority: int | None = None
    max_priority: int | None = None
    priority: int | None = None
    states: tuple[str, ...] = ("ready",)


def _for(f: TaskFilter, principal: Principal | None) -> TaskFilter:
    """A candidate-user query about the caller also counts the caller's groups (we know only theirs)."""
    if principal is not None and f.candidate_user == principal.user_id and not f.candidate_user_groups:
        from dataclasses import replace

        return replace(f, candidate_user_groups=tuple(sorted(principal.groups)))
    return f


def _view(engine: IncidentEngine, conn: Any, row: dict[str, Any]) -> dict[str, Any]:
    view = task_view(row)
    user_task = engine.runtime_by_id(conn, row["procedure_id"]).definition.user_task(row["element_id"])
    view.update(procedure_id=row["procedure_id"], reference=row.get("reference"),
                form_key=user_task.form_key if user_task else None)
    return view


def search(engine: IncidentEngine, f: TaskFilter, *, sort: str = "created", descending: bool = False,
           offset: int = 0, limit: int | None = None, principal: Principal | None = None) -> list[dict[str, Any]]:
    """Tasks matching `f`, each with its procedure version id, incident reference and form key."""
    policy.require(principal, "tasks.work")
    with engine.uow(write=False) as uow:
        rows = task_rows.search(uow.conn, _for(f, principal), visible_to=policy.visibility(principal), sort=sort,
                                descending=descending, offset=offset, limit=limit)
        return [_view(engine, uow.conn, r) for r in rows]


def count(engine: IncidentEngine, f: TaskFilter, *, principal: Principal | None = None) -> int:
    policy.require(principal, "tasks.work")
    with engine.uow(write=False) as uow:
        return task_rows.count(uow.conn, _for(f, principal), visible_to=policy.visibility(principal))


def get(engine: IncidentEngine, task_id: str, *, principal: Principal | None = None) -> dict[str, Any]:
    """One task the caller may see, with the same extra fields as `search`."""
    policy.require(principal, "tasks.work")
    with engine.uow(write=False) as uow:
        task = visible_task(uow.conn, task_id, principal)
        incident = incident_rows.get(uow.conn, task["incident_id"])
        assert incident is not None
        return _view(engine, uow.conn, {**task, "procedure_id": incident["procedure_id"],
                                        "reference": incident["reference"]})


def form_values(engine: IncidentEngine, task_id: str, *,
                principal: Principal | None = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The task's form fields and the values a form shows for them: the incident's current value of each
    field, else the field's default. A task without fields shows the whole incident data."""
    policy.require_any(principal, "tasks.work", policy.TEST_INCIDENTS)
    with engine.uow(write=False) as uow:
        task = visible_task(uow.conn, task_id, principal)
        incident = incident_rows.get(uow.conn, task["incident_id"])
    assert incident is not None
    data = dict(incident["data"] or {})
    fields = list(task["form"] or [])
    if not fields:
        return [], data
    return fields, {f["id"]: data.get(f["id"], f.get("default")) for f in fields}
