"""Camunda resource `/task`: the human-task queue, claiming, completing with form validation, form values."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from engine.errors import Conflict
from engine.services import camunda_forms, claims, task_search, tasks
from engine.services.task_search import TaskFilter

from ..extensions import engine
from ..identity import current_principal
from . import translate as t

blp = Blueprint("task", __name__, url_prefix="/task")

_SORT = {"created": "created", "dueDate": "due", "followUpDate": "follow_up", "priority": "priority",
         "name": "name", "assignee": "assignee", "id": "id", "taskDefinitionKey": "element",
         "instanceId": "incident", "processInstanceId": "incident"}
_FORM_TYPES = {"string": "String", "long": "Long", "double": "Double", "boolean": "Boolean", "date": "Date",
               "enum": "String"}


def task_dto(view: dict[str, Any]) -> dict[str, Any]:
    """A task as Camunda's TaskDto: every key pycamunda indexes is present, null when we have no value."""
    return {
        "id": view["id"], "name": view["name"], "assignee": view["assignee"], "owner": None,
        "created": t.fmt_date(view["created_at"]), "lastUpdated": t.fmt_date(view.get("claimed_at")),
        "due": t.fmt_date(view["due_at"]), "followUp": t.fmt_date(view.get("follow_up_at")),
        "delegationState": None,
        "description": view.get("documentation"), "executionId": view["incident_id"], "parentTaskId": None,
        "priority": view.get("priority", 50), "processDefinitionId": view.get("procedure_id"),
        "processInstanceId": view["incident_id"], "taskDefinitionKey": view["element_id"],
        "caseExecutionId": None, "caseInstanceId": None, "caseDefinitionId": None, "suspended": False,
        "formKey": view.get("form_key"), "camundaFormRef": None, "tenantId": None,
        "taskState": "Created" if view["state"] == "ready" else view["state"].capitalize(),
    }


QUERY = frozenset({
    "processInstanceId", "processInstanceBusinessKey", "processDefinitionKey", "processDefinitionId",
    "taskDefinitionKey", "name", "assignee", "unassigned", "candidateGroup", "candidateGroups", "candidateUser",
    "includeAssignedTasks", "dueBefore", "dueAfter", "followUpBefore", "followUpAfter", "priority", "minPriority",
    "maxPriority", "sortBy", "sortOrder", "sorting"})


def _sorting(source: Any) -> Any:
    """A POST body's `sorting: [{sortBy, sortOrder}]` (Camunda's form there) as sortBy/sortOrder; one key only."""
    if source is None or hasattr(source, "getlist") or not source.get("sorting"):
        return source
    sorting = source["sorting"]
    if not isinstance(sorting, list) or len(sorting) != 1 or not isinstance(sorting[0], dict):
        raise t.bad_request("sorting: this engine sorts tasks by one key; send one {sortBy, sortOrder}")
    return {**source, "sortBy": sorting[0].get("sortBy"), "sortOrder": sorting[0].get("sortOrder")}


def _filter(source: Any) -> tuple[TaskFilter | None, dict[str, Any]]:
    """The filter and paging of a query (query string, or a POST /task JSON body); None matches nothing."""
    t.served(QUERY, source, what="the task query")
    source = _sorting(source)
    first, maximum = t.paging(source)
    groups = t.listed("candidateGroups", source) + t.listed("candidateGroup", source)
    due_before, due_after = t.text("dueBefore", source), t.text("dueAfter", source)
    follow_before, follow_after = t.text("followUpBefore", source), t.text("followUpAfter", source)
    sort = t.text("sortBy", source) or "created"
    if sort not in _SORT:
        raise t.bad_request(f"Cannot set query parameter 'sortBy' to value '{sort}'")
    order = (t.text("sortOrder", source) or "asc").lower()
    if order not in ("asc", "desc"):
        raise t.bad_request(f"Cannot set query parameter 'sortOrder' to value '{order}'")
    f = TaskFilter(
        incident=t.text("processInstanceId", source), reference=t.text("processInstanceBusinessKey", source),
        procedure=t.text("processDefinitionKey", source), procedure_id=t.text("processDefinitionId", source),
        element_id=t.text("taskDefinitionKey", source), name=t.text("name", source),
        assignee=t.text("assignee", source), unassigned=t.flag("unassigned", source),
        candidate_groups=tuple(groups), candidate_user=t.text("candidateUser", source),
        include_assigned=t.flag("includeAssignedTasks", source),
        due_before=t.parse_date(due_before, "dueBefore") if due_before else None,
        due_after=t.parse_date(due_after, "dueAfter") if due_after else None,
        follow_up_before=t.parse_date(follow_before, "followUpBefore") if follow_before else None,
        follow_up_after=t.parse_date(follow_after, "followUpAfter") if follow_after else None,
        priority=t.integer("priority", source), min_priority=t.integer("minPriority", source),
        max_priority=t.integer("maxPriority", source))
    paging = {"offset": first, "limit": maximum, "sort": _SORT.get(sort, "created"), "descending": order == "desc"}
    return f, paging


def _list(source: Any) -> Response:
    f, paging = _filter(source)
    found = [] if f is None else task_search.search(engine(), f, **paging, principal=current_principal())
    return jsonify([task_dto(v) for v in found])


@blp.get("")
def list_tasks() -> Response:
    return _list(None)


@blp.post("")
def query_tasks() -> Response:
    return _list(t.body())


def _count(source: Any) -> dict[str, int]:
    f, _paging = _filter(source)
    return {"count": 0 if f is None else task_search.count(engine(), f, principal=current_principal())}


@blp.get("/count")
def count_tasks() -> dict[str, int]:
    return _count(None)


@blp.post("/count")
def count_tasks_post() -> dict[str, int]:
    return _count(t.body())


@blp.get("/<task_id>")
def get_task(task_id: str) -> dict[str, Any]:
    return task_dto(task_search.get(engine(), task_id, principal=current_principal()))


def _user(body: dict[str, Any]) -> str | None:
    user = body.get("userId")
    if user is not None and not isinstance(user, str):
        raise t.bad_request("userId must be a string")
    return user or None


@blp.post("/<task_id>/claim")
def claim(task_id: str) -> Response:
    """Claim for yourself, or (a supervisor) for `userId`; a task someone else holds is Camunda's 500."""
    principal, user = current_principal(), _user(t.body())
    if user is None or user == principal.user_id:
        claims.claim(engine(), task_id, principal=principal)
    else:
        holder = task_search.get(engine(), task_id, principal=principal)["assignee"]
        if holder not in (None, user):
            raise Conflict(f"Task '{task_id}' is already claimed by someone else", assignee=holder)
        claims.assign(engine(), task_id, user, principal=principal)
    return Response(status=204)


@blp.post("/<task_id>/unclaim")
def unclaim(task_id: str) -> Response:
    claims.unclaim(engine(), task_id, principal=current_principal())
    return Response(status=204)


@blp.post("/<task_id>/assignee")
def set_assignee(task_id: str) -> Response:
    user = _user(t.body())
    if user is None:
        claims.unclaim(engine(), task_id, principal=current_principal())
    else:
        claims.assign(engine(), task_id, user, principal=current_principal())
    return Response(status=204)


def _complete(task_id: str) -> Response:
    body = t.body()
    values = t.variables_in(body.get("variables"))
    view = tasks.complete(engine(), task_id, values, principal=current_principal(),
                          idempotency_key=request.headers.get("Idempotency-Key"))
    if t.flag("withVariablesInReturn", body):
        return jsonify(t.variables_out(view["data"]))
    return Response(status=204)


@blp.post("/<task_id>/complete")
def complete(task_id: str) -> Response:
    """Complete with variables; they are checked against the task's form (a bad value: 400 naming it)."""
    return _complete(task_id)


@blp.post("/<task_id>/submit-form")
def submit_form(task_id: str) -> Response:
    return _complete(task_id)


@blp.get("/<task_id>/form-variables")
def form_variables(task_id: str) -> dict[str, Any]:
    fields, values = task_search.form_values(engine(), task_id, principal=current_principal())
    wanted = set(t.listed("variableNames"))
    if not fields:
        found = t.variables_out(values)
    else:
        found = {}
        for f in fields:
            item = t.typed(values[f["id"]])
            if values[f["id"]] is not None:
                item["type"] = _FORM_TYPES.get(f["type"], item["type"])
            found[f["id"]] = item
    return {k: v for k, v in found.items() if not wanted or k in wanted}


def _camunda_form(task_id: str) -> dict[str, Any] | None:
    """The task's deployed Camunda form (issue 13's camunda_forms), or None; not deployed is Camunda's 404."""
    try:
        return camunda_forms.task_form(engine(), task_id, principal=current_principal())
    except Conflict as err:
        raise t.not_found(f"Cannot get the deployed form of task '{task_id}': {err.detail}") from None


@blp.get("/<task_id>/form")
def form(task_id: str) -> dict[str, Any]:
    """The form key, and for camunda:formRef the reference, which is what makes Camunda 7 Tasklist fetch
    `/deployed-form` and render it with form-js."""
    view = task_search.get(engine(), task_id, principal=current_principal())
    reference = None
    try:
        found = camunda_forms.task_form(engine(), task_id, principal=current_principal())
    except Conflict:  # named but not deployed: the key still says what it is; deployed-form says why not
        found = None
    if found is not None and not found["by_filename"]:
        reference = {"key": found["key"], "binding": found["binding"],
                     "version": found["version"] if found["binding"] == "version" else None}
    return {"key": view.get("form_key"), "contextPath": None, "camundaFormRef": reference}


@blp.get("/<task_id>/deployed-form")
def deployed_form(task_id: str) -> Response:
    """The form-js JSON exactly as deployed (Camunda answers the resource's content, not a wrapper)."""
    found = _camunda_form(task_id)
    if found is None:
        key = task_search.get(engine(), task_id, principal=current_principal()).get("form_key")
        if key:
            raise t.RestError(400, f"The form key '{key}' does not reference a deployed form.",
                              "BadUserRequestException")
        raise t.RestError(400, "One of the attributes 'formKey' and 'camunda:formRef' must be supplied but none "
                               "were set.", "BadUserRequestException")
    return jsonify(found["schema"])
