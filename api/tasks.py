"""HTTP resource for agent desktops: the caller's task queue, claiming work and completing it."""
from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from engine.services import claims, tasks
from engine.services.task_search import TaskFilter

from .auth import requires
from .extensions import engine
from .identity import current_principal
from .lean_dumps import dump_incident, dump_task_page
from .schemas.common import ProblemSchema
from .schemas.incidents import (
    AssignSchema,
    CompleteSchema,
    IncidentSchema,
    TaskPageSchema,
    TaskQuerySchema,
    TaskSchema,
)

blp = Blueprint("tasks", __name__, url_prefix="/api/v1/tasks", description="Human tasks")


@blp.route("")
class TaskCollection(MethodView):
    @requires("tasks.work", "incidents.test")
    @blp.arguments(TaskQuerySchema, location="query")
    @blp.response(200, TaskPageSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """The caller's queue: tasks offered to their groups or to them, or assigned to them (oldest first)."""
        narrowed = TaskFilter(procedure=query.pop("procedure"), element_id=query.pop("element_id"),
                              reference=query.pop("reference"), candidate_groups=tuple(query.pop("candidate_group")),
                              include_assigned=True, due_before=query.pop("due_before"),
                              due_after=query.pop("due_after"), follow_up_before=query.pop("follow_up_before"),
                              follow_up_after=query.pop("follow_up_after"), min_priority=query.pop("min_priority"),
                              max_priority=query.pop("max_priority"), states=())
        items, cursor = tasks.page(engine(), **query, principal=current_principal(), narrowed=narrowed)
        # a hot route: written by hand, the same document TaskPageSchema writes (api/lean_dumps.py)
        return current_app.json.response(dump_task_page({"items": items, "next_cursor": cursor}))


@blp.route("/<task_id>")
class TaskItem(MethodView):
    @requires("tasks.work", "incidents.test")
    @blp.response(200, TaskSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="no such task, or not one of the caller's")
    def get(self, task_id: str) -> dict[str, Any]:
        """One task with its form."""
        return tasks.get(engine(), task_id, principal=current_principal())


@blp.route("/<task_id>/claim")
class TaskClaim(MethodView):
    @requires("tasks.work", "incidents.test")
    @blp.response(200, TaskSchema)
    @blp.alt_response(403, schema=ProblemSchema, description="the task is not offered to the caller")
    @blp.alt_response(404, schema=ProblemSchema, description="no such task, or not one of the caller's")
    @blp.alt_response(409, schema=ProblemSchema, description="someone else holds it, or it is no longer ready")
    def post(self, task_id: str) -> dict[str, Any]:
        """Take a task offered to you; claiming one you already hold changes nothing."""
        return claims.claim(engine(), task_id, principal=current_principal())


@blp.route("/<task_id>/unclaim")
class TaskUnclaim(MethodView):
    @requires("tasks.work", "incidents.test")
    @blp.response(200, TaskSchema)
    @blp.alt_response(403, schema=ProblemSchema, description="neither the assignee nor a supervisor")
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(409, schema=ProblemSchema, description="the task is no longer ready")
    def post(self, task_id: str) -> dict[str, Any]:
        """Give a task back to its candidates (the assignee, or a supervisor of its groups)."""
        return claims.unclaim(engine(), task_id, principal=current_principal())


@blp.route("/<task_id>/assign")
class TaskAssign(MethodView):
    @requires("tasks.assign")
    @blp.arguments(AssignSchema)
    @blp.response(200, TaskSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(409, schema=ProblemSchema, description="the task is no longer ready")
    def post(self, body: dict[str, Any], task_id: str) -> dict[str, Any]:
        """Give a task to a user, taking it from whoever holds it (supervisors of its groups)."""
        return claims.assign(engine(), task_id, body["user"], principal=current_principal())


@blp.route("/<task_id>/complete")
class TaskComplete(MethodView):
    @requires("tasks.work", "incidents.test")
    @blp.arguments(CompleteSchema)
    @blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"},
                          "description": "the same key and body return the first result"}])
    @blp.response(200, IncidentSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(409, schema=ProblemSchema, description="someone else holds the task, or it is no longer ready")
    @blp.alt_response(422, schema=ProblemSchema, description="the data does not match the form")
    def post(self, body: dict[str, Any], task_id: str) -> Any:
        """Complete a task you hold (an unclaimed one offered to you is claimed in the same step) with form
        data; returns the incident with your new open tasks."""
        result = tasks.complete(engine(), task_id, body["data"], principal=current_principal(),
                                idempotency_key=request.headers.get("Idempotency-Key"))
        # a hot route: written by hand, the same document IncidentSchema writes (api/lean_dumps.py)
        return current_app.json.response(dump_incident(result))
