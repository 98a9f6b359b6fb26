"""Who may do what, as pure policy: roles per operation, task and incident visibility, separation of duties."""
from __future__ import annotations

from typing import Any

import pytest

from engine.errors import Forbidden
from engine.identity import policy
from engine.identity.principal import ROLES, Principal
from engine.services.deciders import check_can_decide, check_separation_of_duties

ALICE = Principal.of("alice", ["agent"], ["team-a"])
BOB_B = Principal.of("bob", ["agent"], ["team-b"])
SUE = Principal.of("sue", ["supervisor"], ["team-a"])
ADA = Principal.of("ada", ["admin"])
OPS = Principal.of("olga", ["ops"], ["team-a"])


def task(**overrides: Any) -> dict[str, Any]:
    row = {"id": "t1", "candidate_groups": ["team-a"], "candidate_users": [], "assignee": None,
           "state": "ready", "ended_by": None}
    row.update(overrides)
    return row


def test_a_principal_keeps_only_the_roles_this_service_knows() -> None:
    p = Principal.of("u", ["agent", "offline_access", "uma_authorization", "admin"], ["g"])
    assert p.roles == frozenset({"agent", "admin"})
    assert p.has_role("agent", "ops") and not p.has_role("ops")
    assert p.is_admin


@pytest.mark.parametrize("permission", sorted(set(policy.PERMISSIONS) - policy.EXCLUSIVE))
def test_admin_holds_every_permission_and_nobody_without_roles_holds_any(permission: str) -> None:
    assert policy.allowed(ADA, permission)
    assert not policy.allowed(Principal.of("nobody", [], ["team-a"]), permission)
    assert policy.roles_for(permission)[-1] == "admin"
    assert set(policy.roles_for(permission)) <= set(ROLES)


@pytest.mark.parametrize("permission", sorted(policy.EXCLUSIVE))
def test_data_subjects_rights_are_the_dpos_alone_not_even_admins(permission: str) -> None:
    assert policy.roles_for(permission) == ("dpo",)
    assert not policy.allowed(ADA, permission)
    assert policy.allowed(Principal.of("dee", ["dpo"], []), permission)


def test_internal_callers_are_not_checked() -> None:
    policy.require(None, "tasks.assign")
    assert policy.can_see_task(None, task(candidate_groups=[]))
    assert policy.visibility(None) is None and policy.visibility(ADA) is None


@pytest.mark.parametrize(("principal", "permission", "ok"), [
    (ALICE, "tasks.work", True), (ALICE, "tasks.assign", False), (ALICE, "procedures.upload", False),
    (SUE, "tasks.assign", True), (SUE, "incidents.cancel", True), (OPS, "audit.read", True),
    (OPS, "tasks.work", False), (Principal.of("d", ["designer"]), "procedures.upload", True),
    (Principal.of("d", ["designer"]), "incidents.read", False), (Principal.of("ap", ["approver"]), "procedures.approve", True),
])
def test_roles_grant_permissions(principal: Principal, permission: str, ok: bool) -> None:
    assert policy.allowed(principal, permission) is ok
    if not ok:
        with pytest.raises(Forbidden) as raised:
            policy.require(principal, permission)
        assert raised.value.extra["required_roles"] == list(policy.roles_for(permission))


@pytest.mark.parametrize(("principal", "row", "visible"), [
    (ALICE, task(), True),                                          # offered to her group
    (BOB_B, task(), False),                                         # another group's
    (BOB_B, task(candidate_users=["bob"]), True),                   # offered to him by name
    (BOB_B, task(assignee="bob"), True),                            # assigned to him
    (ALICE, task(assignee="carol"), True),                          # her group's, held by a colleague
    (ALICE, task(state="completed", ended_by="carol"), False),      # her group's history is not hers
    (ALICE, task(state="completed", ended_by="alice"), True),       # she did it
    (SUE, task(state="completed", ended_by="carol"), True),         # a supervisor sees the group's history
    (SUE, task(candidate_groups=["team-b"]), False),                # but not other groups'
    (ALICE, task(candidate_groups=[]), False),                      # offered to nobody: admins only
    (ADA, task(candidate_groups=[]), True),
])
def test_task_visibility(principal: Principal, row: dict[str, Any], visible: bool) -> None:
    assert policy.can_see_task(principal, row) is visible


def test_claiming_needs_a_candidate_with_a_working_role() -> None:
    assert policy.can_claim(ALICE, task())
    assert not policy.can_claim(BOB_B, task())
    assert policy.can_claim(BOB_B, task(candidate_users=["bob"]))
    assert not policy.can_claim(OPS, task())                        # in the group, but not an agent
    assert policy.can_claim(ADA, task(candidate_groups=[]))


def test_releasing_is_for_the_assignee_or_a_supervisor_of_the_group() -> None:
    held = task(assignee="carol")
    assert policy.can_release(Principal.of("carol", ["agent"]), held)
    assert not policy.can_release(ALICE, held)
    assert policy.can_release(SUE, held)
    assert not policy.can_release(Principal.of("sam", ["supervisor"], ["team-b"]), held)
    assert policy.can_release(ADA, held)


def test_an_incident_is_readable_by_its_starter_and_whoever_may_see_one_of_its_tasks() -> None:
    incident = {"created_by": "rita"}
    tasks = [task(state="completed", ended_by="carol"), task(id="t2", candidate_groups=["team-b"])]
    assert policy.can_read_incident(Principal.of("rita", ["agent"]), incident, tasks)
    assert not policy.can_read_incident(ALICE, incident, tasks)      # only team-a history
    assert policy.can_read_incident(SUE, incident, tasks)            # team-a history, as supervisor
    assert policy.can_read_incident(BOB_B, incident, tasks)          # team-b task open
    assert policy.can_read_incident(ADA, incident, [])


def test_the_uploader_of_a_version_can_never_approve_it() -> None:
    version = {"key": "p", "version": 2, "created_by": "dina"}
    with pytest.raises(Forbidden, match="uploader"):
        check_separation_of_duties(version, Principal.of("dina", ["designer", "approver"]))
    with pytest.raises(Forbidden, match="uploader"):
        check_can_decide(version, Principal.of("dina", ["admin"]))    # not even an admin
    with pytest.raises(Forbidden, match="authenticated person"):
        check_separation_of_duties(version, None)
    with pytest.raises(Forbidden, match="roles"):
        check_can_decide(version, Principal.of("dan", ["designer"]))
    check_can_decide(version, Principal.of("april", ["approver"]))
    check_can_decide({**version, "created_by": None}, Principal.of("april", ["approver"]))
