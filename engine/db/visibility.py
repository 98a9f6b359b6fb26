"""Which task and incident rows a caller may see, as SQL conditions, so lists filter in the database."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_, select

from .tables import incidents, task_candidates, tasks


@dataclass(frozen=True)
class Visibility:
    """A restricted view: a user, their groups, and whether group membership reaches ended tasks too.

    `None` in place of a Visibility means unrestricted (admins, and internal callers).
    """

    user_id: str
    groups: frozenset[str]
    group_history: bool = False


def _offered(kind: str, values: list[str]) -> ColumnElement[bool]:
    if not values:
        return false()
    return tasks.c.id.in_(select(task_candidates.c.task_id).where(
        task_candidates.c.kind == kind, task_candidates.c.value.in_(values)))


def task_visible(v: Visibility) -> ColumnElement[bool]:
    """Mirrors engine.identity.policy.can_see_task (a unit test keeps the two in step)."""
    by_group = _offered("group", sorted(v.groups))
    if not v.group_history:
        by_group = and_(by_group, tasks.c.state == "ready")
    return or_(tasks.c.assignee == v.user_id, tasks.c.ended_by == v.user_id,
               _offered("user", [v.user_id]), by_group)


def incident_visible(v: Visibility) -> ColumnElement[bool]:
    """An incident is visible to whoever started it or may see one of its tasks."""
    return or_(incidents.c.created_by == v.user_id,
               incidents.c.id.in_(select(tasks.c.incident_id).where(task_visible(v))))
