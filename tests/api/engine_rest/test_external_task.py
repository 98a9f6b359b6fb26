"""/external-task: pull-based service tasks, locks in rows, long polling, complete/failure/bpmnError/locks."""
from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.incidents import frozen

from .conftest import REST
from .shapes import DATE, EXTERNAL_TASK, LOCKED_EXTERNAL_TASK, has_keys, is_error

CHARGE = Path(__file__).resolve().parents[2] / "fixtures" / "bpmn" / "external_charge.bpmn"
# camunda-external-task-client-python3's literal fetch body (../shared/notes/camunda-compat.md §1c)
FETCH = {"workerId": "w1", "maxTasks": 1, "topics": [{
    "topicName": "charge-card", "lockDuration": 300000, "processVariables": {}, "includeExtensionProperties": True,
    "deserializeValues": True, "variables": None}], "asyncResponseTimeout": 0, "usePriority": False, "sorting": None}


@pytest.fixture
def charge(client: Any) -> Any:
    assert client.post("/api/v1/procedures", data=CHARGE.read_bytes(), content_type="application/xml").status_code == 201

    def start(amount: float = 12.5, key: str | None = None) -> dict[str, Any]:
        response = client.post(f"{REST}/process-definition/key/external_charge/start",
                               json={"variables": {"amount": {"value": amount}}, "businessKey": key})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()  # type: ignore[no-any-return]

    return start


@pytest.fixture
def worker(rest_as: Any) -> Any:
    return rest_as("robot", ("integration",), ("charge-card",))


def fetch(client: Any, **changes: Any) -> list[dict[str, Any]]:
    topic = {**FETCH["topics"][0], **changes.pop("topic", {})}
    response = client.post(f"{REST}/external-task/fetchAndLock", json={**FETCH, "topics": [topic], **changes})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def _open_tasks(client: Any, instance: dict[str, Any]) -> list[str]:
    return [t["taskDefinitionKey"] for t in client.get(f"{REST}/task?processInstanceId={instance['id']}").get_json()]


def test_fetch_and_lock_shape_and_complete(client: Any, charge: Any, worker: Any) -> None:
    instance = charge(key="R-1")
    [task] = fetch(worker)
    has_keys(task, LOCKED_EXTERNAL_TASK)
    assert task["topicName"] == "charge-card" and task["workerId"] == "w1" and task["retries"] is None
    assert task["businessKey"] == "R-1" and task["processInstanceId"] == instance["id"]
    assert task["variables"]["amount"] == {"value": 12.5, "type": "Double", "valueInfo": {}}
    assert task["extensionProperties"] == {"provider": "acme"} and DATE.match(task["lockExpirationTime"])
    assert fetch(worker) == []  # locked
    response = worker.post(f"{REST}/external-task/{task['id']}/complete", json={
        "workerId": "w1", "variables": {"charge_id": {"value": "ch_1"}}, "localVariables": {}})
    assert response.status_code == 204 and response.data == b""
    assert _open_tasks(client, instance) == ["Task_Confirm"]
    variables = client.get(f"{REST}/process-instance/{instance['id']}/variables").get_json()
    assert variables["charge_id"]["value"] == "ch_1"
    trail = client.get(f"/api/v1/incidents/{instance['id']}/audit").get_json()["items"]
    kinds = {r["kind"]: r for r in trail if r["kind"].startswith("external_task_")}
    assert kinds["external_task_locked"]["data"]["worker_id"] == "w1"
    assert kinds["external_task_completed"]["data"]["worker_id"] == "w1"
    is_error(worker.post(f"{REST}/external-task/{task['id']}/complete", json={"workerId": "w1"}), 404)


def test_variables_filters_and_properties(client: Any, charge: Any, worker: Any) -> None:
    charge(5.0, "small")
    charge(50.0, "large")
    assert fetch(worker, topic={"processVariables": {"amount": 99.0}}) == []
    [large] = fetch(worker, topic={"processVariables": {"amount": 50.0}, "variables": ["nothing"],
                                   "includeExtensionProperties": False})
    assert large["businessKey"] == "large" and large["variables"] == {} and large["extensionProperties"] == {}
    [small] = fetch(worker, topic={"businessKey": "small"})
    assert small["businessKey"] == "small"


def test_a_worker_sees_only_its_topics(charge: Any, rest_as: Any) -> None:
    charge()
    other = rest_as("robot-2", ("integration",), ("send-letters",))
    assert fetch(other) == []
    agent = rest_as("alice", ("agent",), ("charge-card",))
    is_error(agent.post(f"{REST}/external-task/fetchAndLock", json=FETCH), 403, "AuthorizationException")
    assert len(fetch(rest_as("any", ("integration",), ("*",)))) == 1


def test_only_the_lock_holder_finishes_and_an_expired_lock_is_fetchable_again(charge: Any, worker: Any) -> None:
    charge()
    with frozen() as clock:
        [task] = fetch(worker, topic={"lockDuration": 60_000})
        body = is_error(worker.post(f"{REST}/external-task/{task['id']}/complete", json={"workerId": "w2"}), 400,
                        "BadUserRequestException")
        assert "locked by worker 'w1'" in body["message"]
        assert fetch(worker, workerId="w2") == []
        clock.advance(timedelta(seconds=61))
        [again] = fetch(worker, workerId="w2")
        assert again["id"] == task["id"] and again["workerId"] == "w2"
        is_error(worker.post(f"{REST}/external-task/{task['id']}/complete", json={"workerId": "w1"}), 400)
        assert worker.post(f"{REST}/external-task/{task['id']}/complete", json={"workerId": "w2"}).status_code == 204


def test_failure_retries_timeout_and_the_incident_at_zero(client: Any, charge: Any, worker: Any) -> None:
    instance = charge()
    with frozen() as clock:
        [task] = fetch(worker)
        failed = worker.post(f"{REST}/external-task/{task['id']}/failure", json={
            "workerId": "w1", "errorMessage": "gateway timeout", "retries": 2, "retryTimeout": 30_000})
        assert failed.status_code == 204
        assert fetch(worker) == []  # not before retryTimeout
        clock.advance(timedelta(seconds=31))
        [again] = fetch(worker)
        assert again["retries"] == 2 and again["errorMessage"] == "gateway timeout"
        assert worker.post(f"{REST}/external-task/{task['id']}/failure", json={
            "workerId": "w1", "errorMessage": "card service down", "errorDetails": "trace...", "retries": 0,
            "retryTimeout": 0}).status_code == 204
        clock.advance(timedelta(seconds=1))
        assert fetch(worker) == []
    [incident] = client.get(f"{REST}/incident?processInstanceId={instance['id']}").get_json()
    assert incident["incidentType"] == "failedExternalTask" and incident["activityId"] == "Task_Charge"
    assert incident["incidentMessage"] == "card service down" and incident["configuration"] == task["id"]
    failures = client.get("/api/v1/failures?kind=failed_external_task").get_json()["items"]
    assert [f["external_task_id"] for f in failures] == [task["id"]]
    listed = client.get(f"{REST}/external-task?noRetriesLeft=true").get_json()
    assert [t["id"] for t in listed] == [task["id"]] and listed[0]["retries"] == 0
    trail = client.get(f"/api/v1/incidents/{instance['id']}/audit").get_json()["items"]
    assert [r["data"]["retries"] for r in trail if r["kind"] == "external_task_failed"] == [2, 0]
    is_error(worker.put(f"{REST}/external-task/{task['id']}/retries", json={"retries": 1}), 403)
    assert client.put(f"{REST}/external-task/{task['id']}/retries", json={"retries": 1}).status_code == 204
    assert client.get(f"{REST}/incident?processInstanceId={instance['id']}").get_json() == []
    assert [t["id"] for t in fetch(worker)] == [task["id"]]


def test_bpmn_error_is_caught_by_the_boundary_event(client: Any, charge: Any, worker: Any) -> None:
    instance = charge()
    [task] = fetch(worker)
    body = is_error(worker.post(f"{REST}/external-task/{task['id']}/bpmnError", json={
        "workerId": "w1", "errorCode": "NO_SUCH_CODE"}), 400)
    assert "NO_SUCH_CODE" in body["message"]
    assert _open_tasks(client, instance) == []  # nothing changed
    response = worker.post(f"{REST}/external-task/{task['id']}/bpmnError", json={
        "workerId": "w1", "errorCode": "CARD_DECLINED", "errorMessage": "insufficient funds",
        "variables": {"decline_reason": {"value": "funds"}}})
    assert response.status_code == 204
    assert _open_tasks(client, instance) == ["Task_HandleDecline"]
    assert client.get(f"{REST}/process-instance/{instance['id']}/variables/decline_reason").get_json()["value"] == "funds"
    assert client.get(f"{REST}/external-task?processInstanceId={instance['id']}").get_json() == []


def test_extend_lock_and_unlock(charge: Any, worker: Any) -> None:
    charge()
    with frozen() as clock:
        [task] = fetch(worker, topic={"lockDuration": 10_000})
        is_error(worker.post(f"{REST}/external-task/{task['id']}/extendLock",
                             json={"workerId": "w2", "newDuration": 60_000}), 400, "BadUserRequestException")
        assert worker.post(f"{REST}/external-task/{task['id']}/extendLock",
                           json={"workerId": "w1", "newDuration": 60_000}).status_code == 204
        clock.advance(timedelta(seconds=30))
        assert fetch(worker, workerId="w2") == []  # still held thanks to the extension
        clock.advance(timedelta(seconds=31))
        is_error(worker.post(f"{REST}/external-task/{task['id']}/extendLock",
                             json={"workerId": "w1", "newDuration": 1000}), 400)  # expired: fetch it again
    [task] = fetch(worker)
    assert worker.post(f"{REST}/external-task/{task['id']}/unlock", json={}).status_code == 204
    assert [t["workerId"] for t in fetch(worker, workerId="w3")] == ["w3"]


def test_list_get_count_and_cancellation(client: Any, charge: Any, worker: Any) -> None:
    first, _second = charge(key="A"), charge(key="B")
    listed = client.get(f"{REST}/external-task?topicName=charge-card").get_json()
    assert len(listed) == 2
    for item in listed:
        has_keys(item, EXTERNAL_TASK)
    got = client.get(f"{REST}/external-task/{listed[0]['id']}").get_json()
    assert got["id"] == listed[0]["id"] and got["lockExpirationTime"] is None
    assert client.get(f"{REST}/external-task/count?notLocked=true").get_json() == {"count": 2}
    fetch(worker)
    assert client.get(f"{REST}/external-task/count?locked=true").get_json() == {"count": 1}
    assert client.get(f"{REST}/external-task?workerId=w1").get_json()[0]["workerId"] == "w1"
    assert client.delete(f"{REST}/process-instance/{first['id']}").status_code == 204
    assert [t["businessKey"] for t in client.get(f"{REST}/external-task").get_json()] == ["B"]
    is_error(client.get(f"{REST}/external-task/nope"), 404)


def test_bad_fetch_requests_are_400(worker: Any) -> None:
    url = f"{REST}/external-task/fetchAndLock"
    is_error(worker.post(url, json={**FETCH, "topics": "charge-card"}), 400)
    is_error(worker.post(url, json={**FETCH, "topics": [{"topicName": "x"}]}), 400)
    is_error(worker.post(url, json={**FETCH, "workerId": ""}), 400)
    is_error(worker.post(url, json={**FETCH, "maxTasks": 0}), 400)
    is_error(worker.post(url, json={**FETCH, "asyncResponseTimeout": "soon"}), 400)


def test_a_long_poll_returns_as_soon_as_a_task_is_created(charge: Any, worker: Any) -> None:
    """The waiting fetch is woken by the new task's notification (LISTEN/NOTIFY on PostgreSQL, the
    process's condition on SQLite), not by its timeout."""
    got: dict[str, Any] = {}

    def poll() -> None:
        started = time.monotonic()
        got["tasks"] = fetch(worker, asyncResponseTimeout=20_000)
        got["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.5)  # the poll is waiting by now
    charge()
    thread.join(timeout=25)
    assert len(got["tasks"]) == 1 and got["seconds"] < 5, got
    started = time.monotonic()
    assert fetch(worker, asyncResponseTimeout=300) == []  # an empty long poll waits its timeout out
    assert time.monotonic() - started >= 0.3


def test_sorting_and_local_variables(client: Any, charge: Any, worker: Any) -> None:
    with frozen() as clock:
        charge(1.0, "old")
        clock.advance(timedelta(seconds=5))
        charge(2.0, "new")
        [newest] = fetch(worker, sorting=[{"sortBy": "createTime", "sortOrder": "desc"}],
                         topic={"localVariables": True})
        assert newest["businessKey"] == "new" and newest["variables"] == {}
        [oldest] = fetch(worker, sorting=[{"sortBy": "createTime", "sortOrder": "asc"}])
        assert oldest["businessKey"] == "old"
    is_error(worker.post(f"{REST}/external-task/fetchAndLock", json={**FETCH, "sorting": [{"sortBy": "priority"}]}), 400)
