"""Who may do what: the role behind each operation, and whose tasks and incidents a person may see.

Pure functions over a Principal and plain rows. `None` as the principal means an internal caller
(a worker, the CLI, a test of the engine) and is never checked here; the edges always pass one.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.db.visibility import Visibility
from engine.errors import Forbidden

from .principal import ROLES, Principal

# operation -> the roles that may call it; admin may call everything.
PERMISSIONS: dict[str, frozenset[str]] = {
    "procedures.read": frozenset(ROLES),
    "procedures.upload": frozenset({"designer"}),
    # deleting a deployment (issue #14): only one whose versions are all still drafts (engine/deployments/deletion.py)
    "deployments.delete": frozenset({"designer"}),
    "procedures.approve": frozenset({"approver"}),
    "procedures.govern": frozenset({"designer"}),  # declare objectives and peak volume, submit for review
    "procedures.activate": frozenset({"approver"}),
    "strategy.read": frozenset({"designer", "supervisor", "approver", "ops"}),
    "strategy.write": frozenset({"designer"}),
    "comments.write": frozenset(ROLES) - {"integration", "dpo"},  # any colleague may comment on, or resolve, a version's review
    "incidents.start": frozenset({"agent", "supervisor"}),
    "incidents.read": frozenset({"agent", "supervisor"}),
    "incidents.cancel": frozenset({"supervisor"}),
    "incidents.audit": frozenset({"agent", "supervisor", "ops"}),  # ops: any incident; others: their own
    "tasks.work": frozenset({"agent", "supervisor"}),
    "tasks.assign": frozenset({"supervisor"}),
    "audit.read": frozenset({"ops"}),
    "checks.read": frozenset({"agent", "supervisor", "ops"}),  # of incidents the caller may read
    "checks.override": frozenset({"supervisor"}),
    "adherence.read": frozenset({"designer", "supervisor", "approver", "ops"}),
    "metrics.read": frozenset({"ops", "supervisor"}),  # monitoring, recommendations, reports
    "debriefs.read": frozenset({"supervisor", "ops", "approver"}),
    "loadtests.run": frozenset({"ops"}),
    # integration: a system speaking for the organisation (CRM, telephony, monitoring) that sends messages
    "messages.correlate": frozenset({"agent", "supervisor", "integration"}),
    "signals.broadcast": frozenset({"supervisor", "integration"}),  # reaches every waiting incident
    # conditional start events (POST /api/v1/conditions) and variables set on a running incident from outside
    # (POST /api/v1/incidents/{id}/variables, which conditional events listen to), like a message's
    "conditions.evaluate": frozenset({"agent", "supervisor", "integration"}),
    "incidents.variables": frozenset({"agent", "supervisor", "integration"}),
    # test incidents (`"test": true`, issue #10) may run a version that is not active yet; whoever may start
    # one may also read, work and audit the test incidents they take part in (their tasks are offered to
    # the person who started them, besides the procedure's own candidates)
    "incidents.test": frozenset({"designer", "ops"}),
    "scenarios.write": frozenset({"designer"}),  # a version's scenario tests, written by its designers
    "scenarios.run": frozenset({"designer", "approver", "ops"}),
    "simulations.run": frozenset({"designer", "approver", "ops"}),
    # external-task workers (issue #14): fetch, lock and finish external tasks of the topics they may serve
    "external_tasks.work": frozenset({"integration"}),
    "external_tasks.read": frozenset({"integration", "supervisor", "ops"}),
    "external_tasks.retry": frozenset({"supervisor", "ops"}),  # set retries again on a failed activity
    "failures.read": frozenset({"supervisor", "ops"}),  # failed activities (Camunda's /incident)
    # data subjects' rights (issue #17): the data-protection officer alone, not even admin
    "data_subjects.erase": frozenset({"dpo"}),
    "data_subjects.export": frozenset({"dpo"}),
    "incidents.hold": frozenset({"supervisor"}),  # legal hold: keeps an incident's personal data from erasure
}
# Permissions that admin does not get with "everything": only the roles named may exercise them.
EXCLUSIVE = frozenset({"data_subjects.erase", "data_subjects.export"})
TEST_INCIDENTS = "incidents.test"


def roles_for(permission: str) -> tuple[str, ...]:
    """The roles that grant `permission`, in the canonical order (admin last)."""
    granted = PERMISSIONS[permission] | (set() if permission in EXCLUSIVE else {"admin"})
    return tuple(r for r in ROLES if r in granted)


def allowed(principal: Principal | None, permission: str) -> bool:
    return principal is None or principal.has_role(*roles_for(permission))


def require(principal: Principal | None, permission: str) -> None:
    """Raise Forbidden unless the principal holds a role that grants `permission`."""
    if not allowed(principal, permission):
        raise Forbidden(f"this needs one of the roles: {', '.join(roles_for(permission))}",
                        required_roles=list(roles_for(permission)))


def require_any(principal: Principal | None, permission: str, *alternatives: str) -> None:
    """Raise Forbidden (naming `permission`'s roles) unless the principal holds one of the permissions."""
    if not any(allowed(principal, p) for p in alternatives):
        require(principal, permission)


def allowed_on(principal: Principal | None, permission: str, row: Mapping[str, Any]) -> bool:
    """`permission`, or, on a row of a test incident (`test`), the test-incident permission."""
    return allowed(principal, permission) or (bool(row.get("test")) and allowed(principal, TEST_INCIDENTS))


def require_on(principal: Principal | None, permission: str, row: Mapping[str, Any]) -> None:
    """Raise Forbidden unless the principal may act on this row (see allowed_on)."""
    if not allowed_on(principal, permission, row):
        require(principal, permission)


def require_listing(principal: Principal | None, permission: str, test: bool) -> None:
    """A listing of live rows needs `permission`; a listing of test rows may use the test-incident one."""
    if not (test and allowed(principal, TEST_INCIDENTS)):
        require(principal, permission)


def visibility(principal: Principal | None) -> Visibility | None:
    """The rows a principal may see, for SQL filters; None when they see everything."""
    if principal is None or principal.is_admin:
        return None
    return Visibility(principal.user_id, principal.groups, group_history=principal.has_role("supervisor"))


def correlation_scope(principal: Principal | None) -> Visibility | None:
    """The incidents a message from this caller may reach: an integration reaches every incident (it
    speaks for the organisation, as Camunda's REST clients do); a person only those they may see."""
    if principal is not None and principal.has_role("integration"):
        return None
    return visibility(principal)


def is_candidate(principal: Principal, task: Mapping[str, Any]) -> bool:
    """Offered to them: one of their groups or their user id is a candidate, or they are the assignee."""
    return (task.get("assignee") == principal.user_id
            or principal.user_id in (task.get("candidate_users") or ())
            or not principal.groups.isdisjoint(task.get("candidate_groups") or ()))


def can_see_task(principal: Principal | None, task: Mapping[str, Any]) -> bool:
    """Candidates see a task while it is open; who held or ended it keeps seeing it; supervisors see their
    groups' tasks in every state. Mirrors engine.db.visibility.task_visible."""
    v = visibility(principal)
    if v is None:
        return True
    if v.user_id in (task.get("assignee"), task.get("ended_by")) or v.user_id in (task.get("candidate_users") or ()):
        return True
    offered_to_group = not v.groups.isdisjoint(task.get("candidate_groups") or ())
    return offered_to_group and (v.group_history or task.get("state") == "ready")


def can_claim(principal: Principal | None, task: Mapping[str, Any]) -> bool:
    """Candidates (and admins) may take a task; whether someone else holds it is the caller's next check."""
    if principal is None or principal.is_admin:
        return True
    return allowed_on(principal, "tasks.work", task) and is_candidate(principal, task)


def can_release(principal: Principal | None, task: Mapping[str, Any]) -> bool:
    """The assignee may give a task back; so may a supervisor (or admin) who can see it."""
    if principal is None or principal.is_admin:
        return True
    if task.get("assignee") == principal.user_id:
        return True
    return allowed(principal, "tasks.assign") and can_see_task(principal, task)


def can_read_incident(principal: Principal | None, incident: Mapping[str, Any],
                      tasks: list[Mapping[str, Any]]) -> bool:
    """Whoever started the incident or may see one of its tasks (open or ended). Mirrors incident_visible."""
    if principal is None or principal.is_admin:
        return True
    return incident.get("created_by") == principal.user_id or any(can_see_task(principal, t) for t in tasks)
