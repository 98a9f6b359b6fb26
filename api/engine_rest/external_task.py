"""Camunda resource `/external-task`: fetch and lock (long polling), complete, failure, BPMN error, locks."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from engine.safe_input import INT32_MAX, MAX_KEY_CHARS
from engine.services import external_tasks
from engine.services.external_tasks import TopicRequest

from .. import serving
from ..extensions import engine
from ..identity import current_principal
from . import translate as t

blp = Blueprint("external_task", __name__, url_prefix="/external-task")


def _base(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "activityId": row["element_id"], "activityInstanceId": row["id"], "errorMessage": row["error_message"],
        "executionId": row["incident_id"], "id": row["id"], "lockExpirationTime": t.fmt_date(row["lock_expires_at"]),
        "processDefinitionId": row["procedure_id"], "processDefinitionKey": row["procedure_key"],
        "processDefinitionVersionTag": None, "processInstanceId": row["incident_id"], "tenantId": None,
        "retries": row["retries"], "suspended": False, "workerId": row["worker_id"], "priority": row["priority"],
        "topicName": row["topic"], "businessKey": row["reference"], "createTime": t.fmt_date(row["created_at"]),
    }


def locked_dto(row: dict[str, Any]) -> dict[str, Any]:
    """LockedExternalTaskDto: the task with its variables and extension properties (all keys present)."""
    return {**_base(row), "errorDetails": row["error_details"], "variables": t.variables_out(row["variables"]),
            "extensionProperties": {k: str(v) for k, v in (row.get("properties") or {}).items()}}


def _topic(raw: Any) -> TopicRequest:
    if not isinstance(raw, dict) or not isinstance(raw.get("topicName"), str) or not raw["topicName"]:
        raise t.bad_request("every topic needs a topicName")
    lock = raw.get("lockDuration")
    if not isinstance(lock, int) or isinstance(lock, bool) or not 0 < lock <= INT32_MAX:
        raise t.bad_request(f"topic {raw['topicName']}: lockDuration must be a positive number of milliseconds "
                            f"(at most {INT32_MAX})")
    names = raw.get("variables")
    filters = raw.get("processVariables") or {}
    if not isinstance(filters, dict) or (names is not None and not isinstance(names, list)):
        raise t.bad_request(f"topic {raw['topicName']}: variables must be a list, processVariables an object")
    keys = t.listed("processDefinitionKeyIn", raw) + t.listed("processDefinitionKey", raw)
    ids = t.listed("processDefinitionIdIn", raw) + t.listed("processDefinitionId", raw)
    if raw.get("tenantIdIn") or raw.get("withoutTenantId") is False or raw.get("processDefinitionVersionTag"):
        raise t.bad_request("tenants and version tags are not supported by this engine")
    if raw.get("localVariables"):  # only the task's local variables: an external task here has none
        names = []
    return TopicRequest(raw["topicName"], lock, tuple(str(n) for n in names) if names is not None else None,
                        dict(filters), raw.get("businessKey"), tuple(keys), tuple(ids),
                        bool(raw.get("includeExtensionProperties")))


@blp.post("/fetchAndLock")
def fetch_and_lock() -> Response:
    """Lock tasks of the given topics; with none fetchable, wait up to asyncResponseTimeout (ms) without
    holding one of the server's working threads."""
    body = t.body()
    topics = body.get("topics")
    if not isinstance(topics, list):
        raise t.bad_request("topics must be a list")
    timeout = body.get("asyncResponseTimeout") or 0
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not 0 <= timeout <= INT32_MAX:
        raise t.bad_request("asyncResponseTimeout must be a number of milliseconds")
    sorting = body.get("sorting") or []
    if not isinstance(sorting, list) or any(not isinstance(x, dict) or x.get("sortBy") != "createTime"
                                            or x.get("sortOrder", "asc") not in ("asc", "desc") for x in sorting):
        raise t.bad_request("sorting supports [{\"sortBy\": \"createTime\", \"sortOrder\": \"asc\" or \"desc\"}]")
    max_tasks = body.get("maxTasks", 10)
    if not isinstance(max_tasks, int) or isinstance(max_tasks, bool) or not 0 <= max_tasks <= INT32_MAX:
        raise t.bad_request("maxTasks must be a number")
    if len(str(body.get("workerId") or "")) > MAX_KEY_CHARS:
        raise t.bad_request(f"workerId is longer than {MAX_KEY_CHARS} characters")
    locked = external_tasks.fetch_and_lock(
        engine(), worker_id=str(body.get("workerId") or ""), topics=[_topic(x) for x in topics],
        max_tasks=max_tasks, by_priority=bool(body.get("usePriority")), wait_seconds=timeout / 1000,
        newest_first=bool(sorting) and sorting[0].get("sortOrder") == "desc",
        park=serving.parked, principal=current_principal())
    return jsonify([locked_dto(row) for row in locked])


def _worker(body: dict[str, Any]) -> str:
    worker = body.get("workerId")
    if not isinstance(worker, str) or not worker or len(worker) > MAX_KEY_CHARS:
        raise t.bad_request(f"workerId is required (at most {MAX_KEY_CHARS} characters)")
    return worker


@blp.post("/<task_id>/complete")
def complete(task_id: str) -> Response:
    body = t.body()
    external_tasks.complete(engine(), task_id, worker_id=_worker(body), variables=t.variables_in(body.get("variables")),
                            local_variables=t.variables_in(body.get("localVariables"), "localVariables"),
                            principal=current_principal())
    return Response(status=204)


def _number(body: dict[str, Any], name: str, default: int | None = None) -> int:
    value = body.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= INT32_MAX:
        raise t.bad_request(f"{name} must be a whole number from 0 to {INT32_MAX}")
    return value


@blp.post("/<task_id>/failure")
def failure(task_id: str) -> Response:
    body = t.body()
    external_tasks.failure(engine(), task_id, worker_id=_worker(body), message=body.get("errorMessage"),
                           details=body.get("errorDetails"), retries=_number(body, "retries", 0),
                           retry_timeout_ms=_number(body, "retryTimeout", 0), principal=current_principal())
    return Response(status=204)


@blp.post("/<task_id>/bpmnError")
def bpmn_error(task_id: str) -> Response:
    body = t.body()
    external_tasks.bpmn_error(engine(), task_id, worker_id=_worker(body), code=str(body.get("errorCode") or ""),
                              message=body.get("errorMessage"), variables=t.variables_in(body.get("variables")),
                              principal=current_principal())
    return Response(status=204)


@blp.post("/<task_id>/extendLock")
def extend_lock(task_id: str) -> Response:
    body = t.body()
    external_tasks.extend_lock(engine(), task_id, worker_id=_worker(body), duration_ms=_number(body, "newDuration"),
                               principal=current_principal())
    return Response(status=204)


@blp.post("/<task_id>/unlock")
def unlock(task_id: str) -> Response:
    external_tasks.unlock(engine(), task_id, principal=current_principal())
    return Response(status=204)


@blp.put("/<task_id>/retries")
def set_retries(task_id: str) -> Response:
    external_tasks.set_retries(engine(), task_id, _number(t.body(), "retries"), principal=current_principal())
    return Response(status=204)


QUERY = frozenset({"externalTaskId", "externalTaskIdIn", "topicName", "workerId", "processInstanceId", "activityId",
                   "locked", "notLocked", "withRetriesLeft", "noRetriesLeft"})


def _query() -> dict[str, Any]:
    t.served(QUERY, what="the external-task query")
    first, maximum = t.paging()
    locked = True if t.flag("locked") else False if t.flag("notLocked") else None
    retries = True if t.flag("withRetriesLeft") else False if t.flag("noRetriesLeft") else None
    ids = t.listed("externalTaskIdIn") + ([t.text("externalTaskId")] if t.text("externalTaskId") else [])
    return {"ids": ids or None, "topic": t.text("topicName"), "worker_id": t.text("workerId"),
            "incident_id": t.text("processInstanceId"), "element_id": t.text("activityId"), "locked": locked,
            "with_retries": retries, "offset": first, "limit": maximum}


@blp.get("")
def list_tasks() -> Response:
    return jsonify([_base(r) for r in external_tasks.search(engine(), **_query(), principal=current_principal())])


@blp.get("/count")
def count_tasks() -> dict[str, int]:
    query = {**_query(), "offset": 0, "limit": None}
    return {"count": len(external_tasks.search(engine(), **query, principal=current_principal()))}


@blp.get("/<task_id>")
def get_task(task_id: str) -> dict[str, Any]:
    return {**_base(external_tasks.get(engine(), task_id, principal=current_principal())), "errorDetails": None}
