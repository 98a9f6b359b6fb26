"""/task: the queue with the filters agent desktops use, claim/unclaim/assignee, complete, form values."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from .conftest import REST, start_major
from .shapes import DATE, TASK, has_keys, is_error

LOG = {"summary": {"value": "line down"}, "caller_id": {"value": "C-77"}, "identity_verified": {"value": True}}


def _tasks(client: Any, **query: Any) -> list[dict[str, Any]]:
    response = client.get(f"{REST}/task", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def test_task_keys_dates_and_basic_filters(client: Any) -> None:
    one, two = start_major(client, "CRM-1"), start_major(client, "CRM-2")
    found = _tasks(client, processInstanceId=one["id"])
    assert len(found) == 1
    task = found[0]
    has_keys(task, TASK)
    assert DATE.match(task["created"]) and task["due"] is None and task["priority"] == 50
    assert task["taskDefinitionKey"] == "Task_LogIncident" and task["processDefinitionId"] == one["definitionId"]
    assert [t["processInstanceId"] for t in _tasks(client, processInstanceBusinessKey="CRM-2")] == [two["id"]]
    assert len(_tasks(client, processDefinitionKey="major_incident", taskDefinitionKey="Task_LogIncident")) == 2
    assert _tasks(client, taskDefinitionKey="Task_Triage") == []
    assert len(_tasks(client, priority=50)) == 2 and _tasks(client, priority=10) == []
    assert client.get(f"{REST}/task/count?processDefinitionKey=major_incident").get_json() == {"count": 2}
    assert client.post(f"{REST}/task/count", json={"processInstanceId": one["id"]}).get_json() == {"count": 1}
    assert [t["id"] for t in client.post(f"{REST}/task", json={"processInstanceId": two["id"]}).get_json()] \
        == [_tasks(client, processInstanceId=two["id"])[0]["id"]]
    got = client.get(f"{REST}/task/{task['id']}").get_json()
    assert got == task
    is_error(client.get(f"{REST}/task/nope"), 404, "InvalidRequestException")


def test_sorting_and_paging(client: Any) -> None:
    ids = [start_major(client, f"CRM-{n}")["id"] for n in range(3)]
    ascending = [t["processInstanceId"] for t in _tasks(client, sortBy="created", sortOrder="asc")]
    assert ascending == ids
    assert [t["processInstanceId"] for t in _tasks(client, sortBy="created", sortOrder="desc")] == ids[::-1]
    assert [t["processInstanceId"] for t in _tasks(client, firstResult=1, maxResults=1)] == [ids[1]]
    is_error(client.get(f"{REST}/task?sortBy=colour"), 400)


def test_candidate_groups_comma_separated_and_repeated(client: Any, rest_as: Any) -> None:
    start_major(client)
    complaints_only = _tasks(client, candidateGroup="complaints")
    assert complaints_only == []
    assert len(_tasks(client, candidateGroup="service-desk")) == 1
    assert len(_tasks(client, candidateGroups="complaints,service-desk")) == 1
    response = client.get(f"{REST}/task?candidateGroups=complaints&candidateGroups=service-desk")
    assert len(response.get_json()) == 1
    alice = rest_as("alice", ("agent",), ("service-desk",))
    assert len(_tasks(alice, candidateUser="alice")) == 1  # through her group
    task = _tasks(alice)[0]
    assert alice.post(f"{REST}/task/{task['id']}/claim", json={"userId": "alice"}).status_code == 204
    assert _tasks(client, candidateGroup="service-desk") == []  # assigned tasks are left out ...
    assert len(_tasks(client, candidateGroup="service-desk", includeAssignedTasks="true")) == 1  # ... unless asked
    assert len(_tasks(client, assignee="alice")) == 1 and _tasks(client, unassigned="true") == []


def test_due_filters(client: Any) -> None:
    instance = start_major(client)
    for task in _tasks(client, processInstanceId=instance["id"]):
        client.post(f"{REST}/task/{task['id']}/complete", json={"variables": LOG})
    triage = client.post(f"{REST}/task/{_tasks(client)[0]['id']}/complete",
                         json={"variables": {"priority": {"value": "P1"}, "priority_reason": {"value": "outage"}}})
    assert triage.status_code == 204, triage.get_data(as_text=True)
    diagnose = [t for t in _tasks(client) if t["taskDefinitionKey"] == "Task_Diagnose"][0]
    assert DATE.match(diagnose["due"])
    later = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    assert [t["id"] for t in _tasks(client, dueBefore=later)] == [diagnose["id"]]
    assert _tasks(client, dueAfter=later) == []


def test_claim_unclaim_assignee(client: Any, rest_as: Any) -> None:
    start_major(client)
    alice, dave = rest_as("alice", ("agent",), ("service-desk",)), rest_as("dave", ("agent",), ("service-desk",))
    task = _tasks(alice)[0]
    assert alice.post(f"{REST}/task/{task['id']}/claim", json={"userId": "alice"}).status_code == 204
    body = is_error(dave.post(f"{REST}/task/{task['id']}/claim", json={"userId": "dave"}), 500,
                    "TaskAlreadyClaimedException")
    assert "already claimed" in body["message"]
    is_error(dave.post(f"{REST}/task/{task['id']}/unclaim", json={}), 403)
    assert alice.post(f"{REST}/task/{task['id']}/unclaim", json={}).status_code == 204
    assert alice.get(f"{REST}/task/{task['id']}").get_json()["assignee"] is None
    supervisor = rest_as("sam", ("supervisor",), ("service-desk",))
    assert supervisor.post(f"{REST}/task/{task['id']}/assignee", json={"userId": "dave"}).status_code == 204
    assert dave.get(f"{REST}/task/{task['id']}").get_json()["assignee"] == "dave"
    assert supervisor.post(f"{REST}/task/{task['id']}/assignee", json={"userId": None}).status_code == 204
    assert supervisor.post(f"{REST}/task/{task['id']}/claim", json={"userId": "alice"}).status_code == 204
    assert alice.get(f"{REST}/task/{task['id']}").get_json()["assignee"] == "alice"
    is_error(alice.post(f"{REST}/task/{task['id']}/assignee", json={"userId": "dave"}), 403)


def test_complete_validates_against_the_form(client: Any) -> None:
    start_major(client)
    task = _tasks(client)[0]
    body = is_error(client.post(f"{REST}/task/{task['id']}/complete",
                                json={"variables": {"summary": {"value": "x"}}}), 400, "InvalidRequestException")
    assert "caller_id" in body["message"] and "identity_verified" in body["message"]
    body = is_error(client.post(f"{REST}/task/{task['id']}/complete", json={"variables": {
        **LOG, "identity_verified": {"value": "maybe"}}}), 400)
    assert "identity_verified" in body["message"]
    response = client.post(f"{REST}/task/{task['id']}/complete", json={"variables": LOG,
                                                                       "withVariablesInReturn": True})
    assert response.status_code == 200
    assert response.get_json()["identity_verified"] == {"value": True, "type": "Boolean", "valueInfo": {}}
    assert _tasks(client)[0]["taskDefinitionKey"] == "Task_Triage"
    is_error(client.post(f"{REST}/task/{task['id']}/complete", json={"variables": LOG}), 404)


def test_form_variables_form_and_submit_form(client: Any) -> None:
    start_major(client)
    task = _tasks(client)[0]
    found = client.get(f"{REST}/task/{task['id']}/form-variables").get_json()
    assert found["summary"] == {"value": "Payments line down", "type": "String", "valueInfo": {}}
    assert found["identity_verified"] == {"value": None, "type": "Null", "valueInfo": {}}
    only = client.get(f"{REST}/task/{task['id']}/form-variables?variableNames=summary").get_json()
    assert list(only) == ["summary"]
    assert client.get(f"{REST}/task/{task['id']}/form").get_json() == {
        "key": None, "contextPath": None, "camundaFormRef": None}
    # Camunda 7 Tasklist sends scalars untyped
    assert client.post(f"{REST}/task/{task['id']}/submit-form", json={"variables": LOG}).status_code == 204
