"""A filter Camunda has and this engine does not serve is Camunda's 400 naming it, never silently dropped
(which would widen the result); `false` flags and empty values restrict nothing and pass. Also the
process-definition `deploymentId` filter and `versionTag`."""
from __future__ import annotations

import io
from typing import Any

import pytest

from .conftest import REST, start_major
from .shapes import is_error
from .test_deployment import DEPLOY


@pytest.mark.parametrize("path", [
    "/process-definition?nameLike=Major%25", "/process-definition/count?versionTag=v1",
    "/process-instance?superProcessInstance=x", "/process-instance/count?tenantIdIn=t1",
    "/task?candidateGroupLike=desk%25", "/task/count?nameLike=x", "/task?tenantIdIn=t",
    "/external-task?priorityHigherThanOrEquals=2", "/incident?incidentMessage=x",
    "/history/task?processInstanceId=x&taskAssignee=a", "/deployment?nameLike=x", "/deployment/count?after=2026-01-01",
])
def test_an_unserved_filter_is_a_400_naming_it(client: Any, path: str) -> None:
    name = path.rsplit("?", 1)[1].rsplit("&", 1)[-1].split("=")[0]
    found = is_error(client.get(f"{REST}{path}"), 400, "InvalidRequestException")
    assert f"'{name}'" in found["message"] and "firstResult" in found["message"]


def test_post_queries_are_checked_too_and_take_one_sorting(client: Any) -> None:
    start_major(client)
    is_error(client.post(f"{REST}/task", json={"assigneeLike": "a%"}), 400)
    is_error(client.post(f"{REST}/process-instance", json={"activityIdIn": ["A"]}), 400)
    sorted_tasks = client.post(f"{REST}/task", json={"sorting": [{"sortBy": "created", "sortOrder": "desc"}]})
    assert sorted_tasks.status_code == 200 and len(sorted_tasks.get_json()) >= 1
    is_error(client.post(f"{REST}/task", json={"sorting": [{"sortBy": "created"}, {"sortBy": "priority"}]}), 400)


def test_off_flags_and_empty_values_pass(client: Any) -> None:
    start_major(client)
    every = client.get(f"{REST}/task").get_json()
    same = client.get(f"{REST}/task?withoutTenantId=false&active=false&tenantIdIn=&suspended=False").get_json()
    assert [t["id"] for t in same] == [t["id"] for t in every]


def test_definitions_by_deployment_and_their_version_tag(client: Any) -> None:
    tagged = (DEPLOY / "callback_by_key.bpmn").read_bytes()
    made = client.post(f"{REST}/deployment/create", content_type="multipart/form-data", data={
        "deployment-name": "tagged", "a": (io.BytesIO(tagged), "callback_by_key.bpmn"),
        "b": (io.BytesIO((DEPLOY / "callback.form").read_bytes()), "callback.form")}).get_json()
    [definition_id] = made["deployedProcessDefinitions"]
    found = client.get(f"{REST}/process-definition?deploymentId={made['id']}").get_json()
    assert [d["id"] for d in found] == [definition_id] and found[0]["deploymentId"] == made["id"]
    assert client.get(f"{REST}/process-definition/count?deploymentId={made['id']}").get_json() == {"count": 1}
    assert client.get(f"{REST}/process-definition?deploymentId=nope").get_json() == []
    assert client.get(f"{REST}/process-definition?deploymentId={made['id']}&processDefinitionId=other") \
        .get_json() == []


def test_a_version_tag_is_served(client: Any) -> None:
    from pathlib import Path

    simple = (Path(__file__).resolve().parents[2] / "fixtures" / "bpmn" / "simple_flow.bpmn").read_bytes()
    simple = simple.replace(b'id="simple_flow" name="Simple flow"', b'id="simple_flow" camunda:versionTag="v7" name="Simple flow"')
    made = client.post(f"{REST}/deployment/create", content_type="multipart/form-data", data={
        "deployment-name": "tag", "a": (io.BytesIO(simple), "simple_flow.bpmn")})
    assert made.status_code == 200, made.get_json()
    [definition] = made.get_json()["deployedProcessDefinitions"].values()
    assert definition["versionTag"] == "v7"
    assert client.get(f"{REST}/process-definition/{definition['id']}").get_json()["versionTag"] == "v7"


@pytest.mark.parametrize("variables", [5, {"a": {"type": "Nope", "value": 1}}, [{"name": "a"}], ["a_eq_b"]])
def test_a_post_instance_query_with_malformed_variables_is_a_400(client: Any, variables: Any) -> None:
    found = is_error(client.post(f"{REST}/process-instance", json={"variables": variables}), 400)
    assert "variables" in found["message"]


def test_a_post_instance_query_by_variables(client: Any) -> None:
    instance = start_major(client, "CRM-VARS")
    found = client.post(f"{REST}/process-instance", json={"variables": [
        {"name": "caller_id", "operator": "eq", "value": "C-77"}]})
    assert found.status_code == 200 and instance["id"] in [i["id"] for i in found.get_json()]
