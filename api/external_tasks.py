"""HTTP resource for pull workers on our own API: the same external-task use cases as /engine-rest."""
from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from engine.services import external_tasks
from engine.services.external_tasks import TopicRequest

from . import serving
from .auth import requires
from .extensions import engine
from .identity import current_principal
from .schemas.common import ProblemSchema
from .schemas.external_tasks import (
    BpmnErrorSchema,
    ExtendSchema,
    ExternalTaskListSchema,
    ExternalTaskQuerySchema,
    ExternalTaskSchema,
    FailureReportSchema,
    FetchSchema,
    FinishSchema,
    LockedListSchema,
    RetriesSchema,
)

blp = Blueprint("external_tasks", __name__, url_prefix="/api/v1/external-tasks",
                description="External tasks for pull workers")


@blp.route("")
class ExternalTaskCollection(MethodView):
    @requires("external_tasks.read")
    @blp.arguments(ExternalTaskQuerySchema, location="query")
    @blp.response(200, ExternalTaskListSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Open and failed external tasks of the topics the caller may see."""
        return {"items": external_tasks.search(engine(), topic=query["topic"], incident_id=query["incident"],
                                               worker_id=query["worker_id"], principal=current_principal())}


@blp.route("/fetch-and-lock")
class FetchAndLock(MethodView):
    @requires("external_tasks.work")
    @blp.arguments(FetchSchema)
    @blp.response(200, LockedListSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Lock tasks of your topics; with `wait_ms`, wait for one (long polling) when none is there."""
        topics = [TopicRequest(t["name"], t["lock_ms"], tuple(t["variables"]) if t["variables"] is not None else None,
                               include_properties=t["properties"]) for t in body["topics"]]
        return {"items": external_tasks.fetch_and_lock(
            engine(), worker_id=body["worker_id"], topics=topics, max_tasks=body["max_tasks"],
            wait_seconds=body["wait_ms"] / 1000, park=serving.parked, principal=current_principal())}


@blp.route("/<task_id>")
class ExternalTaskItem(MethodView):
    @requires("external_tasks.read")
    @blp.response(200, ExternalTaskSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, task_id: str) -> dict[str, Any]:
        return external_tasks.get(engine(), task_id, principal=current_principal())


_REFUSALS = {"404": {"description": "no such open task"},
             "409": {"description": "another worker holds the lock, or the lock ran out"}}


@blp.route("/<task_id>/complete")
class Complete(MethodView):
    @requires("external_tasks.work")
    @blp.arguments(FinishSchema)
    @blp.response(204)
    @blp.doc(responses=_REFUSALS)
    def post(self, body: dict[str, Any], task_id: str) -> Response:
        """Finish the job; `data` joins the incident data and the workflow moves on."""
        external_tasks.complete(engine(), task_id, worker_id=body["worker_id"], variables=body["data"],
                                principal=current_principal())
        return Response(status=204)


@blp.route("/<task_id>/failure")
class Failure(MethodView):
    @requires("external_tasks.work")
    @blp.arguments(FailureReportSchema)
    @blp.response(204)
    @blp.doc(responses=_REFUSALS)
    def post(self, body: dict[str, Any], task_id: str) -> Response:
        """Report a failed attempt: retried after `retry_after_ms` while retries remain, else a failure."""
        external_tasks.failure(engine(), task_id, worker_id=body["worker_id"], message=body["message"],
                               details=body["details"], retries=body["retries"],
                               retry_timeout_ms=body["retry_after_ms"], principal=current_principal())
        return Response(status=204)


@blp.route("/<task_id>/bpmn-error")
class BpmnError(MethodView):
    @requires("external_tasks.work")
    @blp.arguments(BpmnErrorSchema)
    @blp.response(204)
    @blp.doc(responses={**_REFUSALS, "422": {"description": "no error boundary event catches the code"}})
    def post(self, body: dict[str, Any], task_id: str) -> Response:
        """A business error: the task's error boundary event for `code` takes over."""
        external_tasks.bpmn_error(engine(), task_id, worker_id=body["worker_id"], code=body["code"],
                                  message=body["message"], variables=body["data"], principal=current_principal())
        return Response(status=204)


@blp.route("/<task_id>/extend-lock")
class ExtendLock(MethodView):
    @requires("external_tasks.work")
    @blp.arguments(ExtendSchema)
    @blp.response(204)
    @blp.doc(responses=_REFUSALS)
    def post(self, body: dict[str, Any], task_id: str) -> Response:
        external_tasks.extend_lock(engine(), task_id, worker_id=body["worker_id"], duration_ms=body["lock_ms"],
                                   principal=current_principal())
        return Response(status=204)


@blp.route("/<task_id>/unlock")
class Unlock(MethodView):
    @requires("external_tasks.work")
    @blp.response(204)
    def post(self, task_id: str) -> Response:
        external_tasks.unlock(engine(), task_id, principal=current_principal())
        return Response(status=204)


@blp.route("/<task_id>/retries")
class Retries(MethodView):
    @requires("external_tasks.retry")
    @blp.arguments(RetriesSchema)
    @blp.response(204)
    def put(self, body: dict[str, Any], task_id: str) -> Response:
        """Give a failed task new retries (it leaves the failures list)."""
        external_tasks.set_retries(engine(), task_id, body["retries"], principal=current_principal())
        return Response(status=204)
