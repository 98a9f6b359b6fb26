"""The SQL filters for queues and incident lists agree with the pure policy, on SQLite and PostgreSQL."""
from __future__ import annotations

import itertools
import uuid
from typing import Any

from engine import clock
from engine.db import incident_rows, task_rows
from engine.identity import policy
from engine.identity.principal import Principal
from engine.services import incidents
from engine.services.engine_app import IncidentEngine
from tests.conftest import FIXTURES
from tests.support.procedures import deploy_active

PRINCIPALS = [
    Principal.of("alice", ["agent"], ["team-a"]),
    Principal.of("bob", ["agent"], ["team-a", "team-b"]),
    Principal.of("sue", ["supervisor"], ["team-a"]),
    Principal.of("carol", ["agent"], []),
    Principal.of("rita", ["agent"], ["team-z"]),
]


def _tasks(incident_ids: list[str]) -> list[dict[str, Any]]:
    """Every combination of the things that decide visibility, spread over the incidents."""
    rows = []
    combos = itertools.product([[], ["team-a"], ["team-b", "team-c"]], [[], ["carol"]], [None, "alice", "carol"],
                               [("ready", None), ("completed", "alice"), ("completed", "dave"), ("cancelled", None)])
    for n, (groups, users, assignee, (state, ended_by)) in enumerate(combos):
        rows.append({
            "id": str(uuid.uuid4()), "incident_id": incident_ids[n % len(incident_ids)], "procedure_key": "simple_flow",
            "element_id": f"T{n}", "name": None, "lane": groups[0] if groups else None, "candidate_groups": groups,
            "candidate_users": users, "assignee": assignee, "state": state, "form": [], "created_at": clock.now(),
            "due_at": None, "ended_by": ended_by,
        })
    return rows


def test_sql_visibility_matches_the_policy(engine: IncidentEngine) -> None:
    deploy_active(engine, FIXTURES / "bpmn" / "simple_flow.bpmn")
    started = [incidents.start(engine, procedure="simple_flow", actor=who)[0]["id"] for who in ("rita", "x", "y", "z")]
    extra = _tasks(started[1:])
    with engine.uow() as uow:
        task_rows.insert_many(uow.conn, extra)
        uow.commit()
    seen: dict[str, set[str]] = {}
    with engine.uow(write=False) as uow:
        every_task = task_rows.page(uow.conn, state=None, lane=None, incident=None, limit=10_000, after=None)
        for principal in PRINCIPALS:
            scope = policy.visibility(principal)
            assert scope is not None
            in_sql = {t["id"] for t in task_rows.page(uow.conn, state=None, lane=None, incident=None,
                                                      limit=10_000, after=None, visible_to=scope)}
            in_python = {t["id"] for t in every_task if policy.can_see_task(principal, t)}
            assert in_sql == in_python, principal
            assert 0 < len(in_sql) < len(every_task) or principal.user_id == "rita", principal
            readable = {i["id"] for i in incident_rows.page(uow.conn, status=None, procedure=None, limit=100,
                                                            after=None, visible_to=scope)}
            expected = {i for i in started if policy.can_read_incident(
                principal, incident_rows.get(uow.conn, i) or {},
                [t for t in every_task if t["incident_id"] == i])}
            assert readable == expected, principal
            assert all(incident_rows.is_visible(uow.conn, i, scope) == (i in expected) for i in started)
            seen[principal.user_id] = readable
    assert seen["rita"] == {started[0]}  # the incident she started, though none of its tasks is hers
