"""Use cases for agent desktops: list open tasks, read one, complete it with form data."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine import clock
from engine.bpmn.forms import validate_submission
from engine.db import incident_rows, procedure_rows, task_rows
from engine.db.pages import decode_cursor, encode_cursor
from engine.db.tables import idempotency
from engine.errors import Conflict, Invalid, NotFound, Problem

from .advance import advance
from .engine_app import IncidentEngine
from .incidents import view as incident_view
from .recording import Step
from .views import task_view


def page(engine: IncidentEngine, *, state: str | None = "ready", lane: str | None = None,
         incident: str | None = None, limit: int = 50, cursor: str | None = None
         ) -> tuple[list[dict[str, Any]], str | None]:
    after = decode_cursor(cursor)
    position = (datetime.fromisoformat(after["t"]), str(after["id"])) if after else None
    with engine.uow(write=False) as uow:
        rows = task_rows.page(uow.conn, state=state, lane=lane, incident=incident, limit=limit, after=position)
    next_cursor = encode_cursor({"t": rows[-1]["created_at"].isoformat(), "id": rows[-1]["id"]}) \
        if len(rows) == limit else None
    return [task_view(r) for r in rows], next_cursor


def get(engine: IncidentEngine, task_id: str) -> dict[str, Any]:
    with engine.uow(write=False) as uow:
        row = task_rows.get(uow.conn, task_id)
    if row is None:
        raise NotFound(f"no task {task_id}")
    return task_view(row)


def _request_hash(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def complete(engine: IncidentEngine, task_id: str, data: dict[str, Any], *, actor: str | None = None,
             idempotency_key: str | None = None) -> dict[str, Any]:
    """Validate `data` against the task's form, apply it, run the engine; returns the incident."""
    if not isinstance(data, dict):
        raise Invalid("data must be a JSON object", [Problem("expected an object", field="data")])
    with engine.uow() as uow:
        conn = uow.conn
        task = task_rows.get(conn, task_id)
        if task is None:
            raise NotFound(f"no task {task_id}")
        incident = incident_rows.lock(conn, task["incident_id"])
        assert incident is not None
        scope, digest = f"complete:{task_id}", _request_hash(data)
        if idempotency_key:
            stored = conn.execute(select(idempotency).where(
                idempotency.c.scope == scope, idempotency.c.key == idempotency_key)).mappings().first()
            if stored is not None:
                if stored["request_sha256"] != digest:
                    raise Invalid("this Idempotency-Key was used with a different request body",
                                  [Problem("key reused with another body", field="Idempotency-Key")])
                return _revive(dict(stored["response"]))
        task = task_rows.get(conn, task_id)
        assert task is not None
        if task["state"] != "ready":
            raise Conflict(f"the task is {task['state']}, not ready", state=task["state"])
        if incident["status"] != "running":
            raise Conflict(f"the incident is {incident['status']}", incident_status=incident["status"])
        proc = procedure_rows.get_by_id(conn, incident["procedure_id"])
        assert proc is not None
        runtime = engine.runtime(proc)
        user_task = runtime.definition.user_task(task["element_id"])
        values = validate_submission(user_task.form if user_task else (), data)
        runner = engine.runner(runtime)
        step = Step(incident, runtime, actor, clock.now())
        advance(conn, step, runner, lambda: runner.complete(incident["state"], task_id, values),
                completed_task=task_id, submitted=values)
        result = incident_view(conn, incident["id"])
        if idempotency_key:
            conn.execute(idempotency.insert().values(
                scope=scope, key=idempotency_key, request_sha256=digest,
                response=json.loads(json.dumps(result, default=_json_default)), created_at=step.at))
        uow.commit()
    return result


_TIMES = ("created_at", "updated_at", "ended_at", "next_timer_at", "due_at", "claimed_at")


def _revive(view: dict[str, Any]) -> dict[str, Any]:
    """A stored response as the service returns it (timestamps back to datetimes)."""
    for key in _TIMES:
        if isinstance(view.get(key), str):
            view[key] = datetime.fromisoformat(view[key])
    view["open_tasks"] = [_revive(dict(t)) for t in view.get("open_tasks", [])]
    return view


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
