"""HTTP resource for agent desktops: the task queue and task completion."""
from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from engine.services import tasks

from .extensions import engine
from .identity import current_actor
from .schemas.common import ProblemSchema
from .schemas.incidents import CompleteSchema, IncidentSchema, TaskPageSchema, TaskQuerySchema, TaskSchema

blp = Blueprint("tasks", __name__, url_prefix="/api/v1/tasks", description="Human tasks")


@blp.route("")
class TaskCollection(MethodView):
    @blp.arguments(TaskQuerySchema, location="query")
    @blp.response(200, TaskPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Open human tasks (oldest first), from the tasks table; no workflow state is loaded."""
        items, cursor = tasks.page(engine(), **query)
        return {"items": items, "next_cursor": cursor}


@blp.route("/<task_id>")
class TaskItem(MethodView):
    @blp.response(200, TaskSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, task_id: str) -> dict[str, Any]:
        """One task with its form."""
        return tasks.get(engine(), task_id)


@blp.route("/<task_id>/complete")
class TaskComplete(MethodView):
    @blp.arguments(CompleteSchema)
    @blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"},
                          "description": "the same key and body return the first result"}])
    @blp.response(200, IncidentSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(409, schema=ProblemSchema, description="the task is no longer ready")
    @blp.alt_response(422, schema=ProblemSchema, description="the data does not match the form")
    def post(self, body: dict[str, Any], task_id: str) -> dict[str, Any]:
        """Complete a task with form data; returns the incident with its new open tasks."""
        return tasks.complete(engine(), task_id, body["data"], actor=current_actor(),
                              idempotency_key=request.headers.get("Idempotency-Key"))
