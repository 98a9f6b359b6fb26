"""Claiming work through the API: own queue only, claim/unclaim/assign rules, and who the audit names."""
from __future__ import annotations

from typing import Any

import pytest

from .helpers import FIXTURES, complete, open_task, start, upload_active


@pytest.fixture
def people(client_as: Any) -> dict[str, Any]:
    return {
        "alice": client_as("alice", ["agent"], ["team-a"]),
        "bob": client_as("bob", ["agent"], ["team-a"]),
        "carol": client_as("carol", ["agent"], ["team-c"]),
        "brian": client_as("brian", ["agent"], ["team-b"]),
        "sue": client_as("sue", ["supervisor"], ["team-a"]),
        "sam": client_as("sam", ["supervisor"], ["team-b"]),
        "olga": client_as("olga", ["ops"], []),
    }


def _incident(client: Any, people: dict[str, Any]) -> dict[str, Any]:
    assert upload_active(client, FIXTURES / "simple_flow.bpmn").status_code == 201
    created = start(people["alice"], "simple_flow")
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def _post(who: Any, task: dict[str, Any], action: str, **body: Any) -> Any:
    return who.post(f"/api/v1/tasks/{task['id']}/{action}", json=body or None)


def _to_branches(people: dict[str, Any], incident: dict[str, Any]) -> dict[str, Any]:
    """Alice logs the incident with the check passed: Task_A (team-a) and Task_B (team-b) open."""
    log = open_task(incident, "Task_Log")
    done = complete(people["alice"], log, {"summary": "line down", "ok": True})
    assert done.status_code == 200, done.get_json()
    return done.get_json()


def test_an_agent_of_group_a_cannot_see_claim_or_complete_a_task_of_group_b(client: Any, people: dict[str, Any]) -> None:
    incident = _to_branches(people, _incident(client, people))
    assert [t["element_id"] for t in incident["open_tasks"]] == ["Task_A"]  # alice's view hides team-b's task
    task_b = open_task(client.get(f"/api/v1/incidents/{incident['id']}").get_json(), "Task_B")
    alice = people["alice"]
    assert alice.get(f"/api/v1/tasks/{task_b['id']}").status_code == 404
    for action, body in (("claim", {}), ("unclaim", {}), ("complete", {"data": {}})):
        response = _post(alice, task_b, action, **body)
        assert response.status_code == 404, (action, response.get_json())
        assert response.get_json()["detail"] == f"no task {task_b['id']}"  # same words as a task that never was
    assert task_b["id"] not in [t["id"] for t in alice.get("/api/v1/tasks").get_json()["items"]]
    assert [t["element_id"] for t in people["brian"].get("/api/v1/tasks").get_json()["items"]] == ["Task_B"]
    assert _post(people["sue"], task_b, "assign", user="alice").status_code == 404  # not sue's group either
    # nothing changed on the task
    assert client.get(f"/api/v1/tasks/{task_b['id']}").get_json()["assignee"] is None


def test_the_queue_is_the_callers_own_and_filters_narrow_it(client: Any, people: dict[str, Any]) -> None:
    _incident(client, people)
    second = start(people["alice"], "simple_flow").get_json()
    first_log = [t for t in people["alice"].get("/api/v1/tasks").get_json()["items"]
                 if t["incident_id"] != second["id"]][0]
    assert _post(people["bob"], first_log, "claim").status_code == 200
    queue = lambda who, q="": [t["id"] for t in people[who].get(f"/api/v1/tasks{q}").get_json()["items"]]  # noqa: E731
    second_log = open_task(second, "Task_Log")["id"]
    assert queue("alice") == [first_log["id"], second_log]          # the group's work, held or not
    assert queue("alice", "?unassigned=true") == [second_log]
    assert queue("bob", "?assignee=me") == [first_log["id"]]
    assert queue("alice", "?assignee=me") == []
    assert queue("alice", f"?incident={second['id']}") == [second_log]
    assert queue("alice", "?lane=team-b") == []
    assert queue("carol") == [] and queue("brian") == []
    assert people["olga"].get("/api/v1/tasks").status_code == 403


def test_claim_unclaim_and_assign_rules(client: Any, people: dict[str, Any]) -> None:
    task = open_task(_incident(client, people), "Task_Log")
    alice, bob, sue = people["alice"], people["bob"], people["sue"]

    claimed = _post(alice, task, "claim")
    assert claimed.status_code == 200 and claimed.get_json()["assignee"] == "alice"
    assert claimed.get_json()["claimed_at"] is not None
    assert _post(alice, task, "claim").status_code == 200                # again: no change, no error
    taken = _post(bob, task, "claim")
    assert taken.status_code == 409 and "alice" in taken.get_json()["detail"]
    assert taken.get_json()["assignee"] == "alice"
    assert complete(bob, task, {"summary": "x", "ok": True}).status_code == 409
    assert _post(bob, task, "unclaim").status_code == 403                # visible, but not his to release
    assert _post(bob, task, "assign", user="bob").status_code == 403     # agents do not assign

    released = _post(alice, task, "unclaim")
    assert released.status_code == 200 and released.get_json()["assignee"] is None
    assert _post(alice, task, "unclaim").status_code == 200             # already free: no change
    assert _post(bob, task, "claim").status_code == 200
    assert _post(sue, task, "unclaim").get_json()["assignee"] is None    # a supervisor releases anyone's
    assert _post(sue, task, "assign", user="carol").get_json()["assignee"] == "carol"
    assert _post(sue, task, "assign", user="").status_code == 422
    assert _post(sue, task, "assign").status_code == 422

    # carol is in no candidate group, but as the assignee she sees the task and completes it
    carol = people["carol"]
    assert carol.get(f"/api/v1/tasks/{task['id']}").status_code == 200
    assert [t["id"] for t in carol.get("/api/v1/tasks?assignee=me").get_json()["items"]] == [task["id"]]
    assert complete(carol, task, {"summary": "fixed", "ok": True}).status_code == 200
    assert _post(sue, task, "claim").status_code == 409                  # completed: no longer ready
    assert _post(alice, task, "claim").status_code == 409                # offered to her: 409 as for a race
    assert _post(sue, task, "assign", user="bob").status_code == 409


def test_an_unclaimed_task_is_claimed_and_completed_in_one_call(client: Any, people: dict[str, Any]) -> None:
    incident = _incident(client, people)
    task = open_task(incident, "Task_Log")
    assert complete(people["bob"], task, {"summary": "x", "ok": False}).status_code == 200
    ended = client.get(f"/api/v1/tasks/{task['id']}").get_json()
    assert (ended["state"], ended["assignee"], ended["ended_by"]) == ("completed", "bob", "bob")
    trail = client.get(f"/api/v1/incidents/{incident['id']}/audit").get_json()["items"]
    rows = [(r["kind"], r["to_state"], r["actor"]) for r in trail if r["task_id"] == task["id"]]
    assert ("task_claimed", "ready", "bob") in rows and ("task", "completed", "bob") in rows
    assert rows.index(("task_claimed", "ready", "bob")) < rows.index(("task", "completed", "bob"))


def test_bad_form_data_does_not_leave_a_claim_behind(client: Any, people: dict[str, Any]) -> None:
    task = open_task(_incident(client, people), "Task_Log")
    assert complete(people["bob"], task, {"ok": "maybe"}).status_code == 422
    assert client.get(f"/api/v1/tasks/{task['id']}").get_json()["assignee"] is None


def test_the_audit_names_the_actor_of_every_transition(client: Any, people: dict[str, Any]) -> None:
    incident = _incident(client, people)
    task = open_task(incident, "Task_Log")
    _post(people["alice"], task, "claim")
    _post(people["alice"], task, "unclaim")
    _post(people["bob"], task, "claim")
    _post(people["sue"], task, "assign", user="alice")
    assert complete(people["alice"], task, {"summary": "x", "ok": True}).status_code == 200
    trail = client.get(f"/api/v1/incidents/{incident['id']}/audit").get_json()["items"]
    assert trail[0]["kind"] == "incident_started" and trail[0]["actor"] == "alice"
    mine = [(r["kind"], r["actor"], r["data"]) for r in trail
            if r["task_id"] == task["id"] and r["kind"].startswith("task_")]
    assert mine == [
        ("task_claimed", "alice", {"assignee": "alice", "previous": None}),
        ("task_unclaimed", "alice", {"assignee": None, "previous": "alice"}),
        ("task_claimed", "bob", {"assignee": "bob", "previous": None}),
        ("task_assigned", "sue", {"assignee": "alice", "previous": "bob"}),
    ]
    completed = [r for r in trail if r["task_id"] == task["id"] and r["to_state"] == "completed"]
    assert [r["actor"] for r in completed] == ["alice"]
    assert all(r["element_id"] == "Task_Log" and r["from_state"] == "ready" for r in trail
               if r["kind"].startswith("task_"))


def test_incident_visibility_follows_taking_part(client: Any, people: dict[str, Any]) -> None:
    incident = _to_branches(people, _incident(client, people))
    path = f"/api/v1/incidents/{incident['id']}"
    task_a = open_task(incident, "Task_A")
    assert people["bob"].get(path).status_code == 200        # team-a work is open in it
    assert complete(people["alice"], task_a, {"a_done": True}).status_code == 200
    # only team-b's task is open now: bob never took part; alice did; the team-a supervisor sees the history
    assert people["bob"].get(path).status_code == 404
    assert people["bob"].get(f"{path}/audit").status_code == 404
    assert people["alice"].get(path).get_json()["open_tasks"] == []
    assert people["sue"].get(path).status_code == 200
    assert people["brian"].get(path).get_json()["open_tasks"][0]["element_id"] == "Task_B"
    assert people["sam"].get(path).status_code == 200
    assert people["carol"].get(path).status_code == 404
    assert people["olga"].get(f"{path}/audit").status_code == 200   # ops read every trail
    listed = lambda who: [i["id"] for i in people[who].get("/api/v1/incidents").get_json()["items"]]  # noqa: E731
    assert listed("alice") == [incident["id"]] and listed("sue") == [incident["id"]]
    assert listed("bob") == [] and listed("carol") == []
    # a finished task stays visible to who did it and to supervisors, not to the rest of the group
    assert people["alice"].get(f"/api/v1/tasks/{task_a['id']}").status_code == 200
    assert people["sue"].get(f"/api/v1/tasks/{task_a['id']}").status_code == 200
    assert people["bob"].get(f"/api/v1/tasks/{task_a['id']}").status_code == 404
    history = lambda who: {t["element_id"] for t in  # noqa: E731
                           people[who].get("/api/v1/tasks?state=completed").get_json()["items"]}
    assert history("sue") == history("alice") == {"Task_Log", "Task_A"}
    assert history("bob") == set() and history("sam") == set()


def test_candidate_users_and_assignee_from_the_model(client: Any, client_as: Any) -> None:
    """camunda_triage's Task_Triage: groups `Agents, agents, supervisors`, user `alice`, assignee ${reporter}."""
    assert upload_active(client, FIXTURES / "camunda_triage.bpmn").status_code == 201
    rita = client_as("rita", ["agent"], ["elsewhere"])
    alice = client_as("alice", ["agent"], ["elsewhere"])
    outsider = client_as("otto", ["agent"], ["elsewhere"])
    reported = start(client, "incident_triage", {"reporter": "rita"}).get_json()
    task = open_task(reported, "Task_Triage")
    assert task["assignee"] == "rita"
    assert rita.get(f"/api/v1/tasks/{task['id']}").status_code == 200
    assert alice.get(f"/api/v1/tasks/{task['id']}").status_code == 200       # a candidate user
    assert alice.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 409  # but rita holds it
    assert outsider.get(f"/api/v1/tasks/{task['id']}").status_code == 404
    unreported = open_task(start(client, "incident_triage", {}).get_json(), "Task_Triage")
    assert unreported["assignee"] is None
    assert alice.post(f"/api/v1/tasks/{unreported['id']}/claim").get_json()["assignee"] == "alice"
    assert rita.get(f"/api/v1/tasks/{unreported['id']}").status_code == 404


def test_a_reference_someone_else_used_is_a_conflict_not_their_incident(client: Any, people: dict[str, Any]) -> None:
    _incident(client, people)
    assert start(people["alice"], "simple_flow", reference="CRM-7").status_code == 201
    assert start(people["alice"], "simple_flow", reference="CRM-7").status_code == 200
    other = start(people["brian"], "simple_flow", reference="CRM-7")
    assert other.status_code == 409 and "id" not in other.get_json()
