"""Use cases for Camunda Forms: the deployed `.form` versions, and the form a user task shows and checks."""
from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Connection

from engine.bpmn.model import FormRefDef, UserTaskDef
from engine.db import deployment_rows, procedure_rows, resource_rows
from engine.errors import Conflict, NotFound
from engine.forms.schema import CamundaForm, read_form
from engine.identity import policy
from engine.identity.principal import Principal
from engine.runtime.procedure import RuntimeProcedure

from . import resource_versions
from .engine_app import IncidentEngine

_PARSED: dict[str, CamundaForm] = {}  # form file sha256 -> the checked form (immutable)
_LOCK = threading.Lock()


def _form(conn: Connection, row: dict[str, Any]) -> CamundaForm:
    found = _PARSED.get(row["sha256"])
    if found is None:
        content = resource_rows.content(conn, row["id"])
        assert content is not None
        with _LOCK:
            found = _PARSED.setdefault(row["sha256"], read_form(content))
    return found


def _in_deployment(conn: Connection, runtime: RuntimeProcedure, ref: Any) -> dict[str, Any] | None:
    procedure = procedure_rows.get_by_id(conn, runtime.id)
    deployment = deployment_rows.get(conn, procedure["deployment_id"]) \
        if procedure and procedure.get("deployment_id") else None
    for listed in (deployment or {}).get("resources", []):
        if listed["kind"] != "form":
            continue
        names = (listed["filename"], listed["filename"].rpartition("/")[2])
        if (ref.by_filename and ref.key in names) or (not ref.by_filename and listed["key"] == ref.key):
            return resource_rows.get_by_id(conn, listed["id"])
    return None


def _resolve(conn: Connection, runtime: RuntimeProcedure, ref: FormRefDef) -> dict[str, Any] | None:
    """The form version `ref` names now, by its binding (None when none is deployed)."""
    if ref.by_filename or ref.binding == "deployment":
        return _in_deployment(conn, runtime, ref)
    return resource_rows.find(conn, "form", ref.key, version=ref.version if ref.binding == "version" else None,
                              version_tag=ref.version_tag if ref.binding == "versionTag" else None)


def pinned_form(conn: Connection, runtime: RuntimeProcedure, user_task: UserTaskDef) -> str | None:
    """The form version a new task records (resources.id): resolved once, when the task is created, and used
    for reading and completing it from then on. None when it has no Camunda form or none is deployed yet (a
    deferred reference: then resolved when read)."""
    if user_task.form_ref is None:
        return None
    row = _resolve(conn, runtime, user_task.form_ref)
    return str(row["id"]) if row else None


def form_of(conn: Connection, runtime: RuntimeProcedure, element_id: str,
            pinned: str | None = None) -> tuple[dict[str, Any], CamundaForm] | None:
    """The Camunda form of a user task (None when it has generated fields or no form): the version `pinned`
    at the task's creation, else resolved now by its binding. Conflict when it names a form that is not
    deployed (a deferred reference never satisfied)."""
    user_task = runtime.definition.user_task(element_id)
    ref = user_task.form_ref if user_task is not None else None
    if ref is None:
        return None
    row = resource_rows.get_by_id(conn, pinned) if pinned else None
    row = row or _resolve(conn, runtime, ref)
    if row is None:
        raise Conflict(f"task {element_id} uses form '{ref.key}' ({ref.binding}), which is not deployed; "
                       "deploy the form, then try again")
    return row, _form(conn, row)


def start_form(conn: Connection, runtime: RuntimeProcedure,
               element_id: str | None) -> tuple[dict[str, Any], CamundaForm] | None:
    """The Camunda form of the start event an incident starts at (its plain start event when None): None
    when it has none. Conflict when it names a form that is not deployed."""
    node = next((n for n in runtime.definition.start_events()
                 if (n.id == element_id if element_id else n.event_kind == "none")), None)
    ref = node.form_ref if node is not None else None
    if ref is None:
        return None
    row = _resolve(conn, runtime, ref)
    if row is None:
        raise Conflict(f"start event {node.id} uses form '{ref.key}' ({ref.binding}), which is not deployed; "  # type: ignore[union-attr]
                       "deploy the form, then try again")
    return row, _form(conn, row)


def describe(row: dict[str, Any], form: CamundaForm) -> dict[str, Any]:
    """A form version as the edges show it: the schema exactly as deployed, for form-js to render."""
    return {"id": row["id"], "key": row["key"], "version": row["version"], "filename": row["filename"],
            "version_tag": row.get("version_tag"), "deployment_id": row["deployment_id"],
            "created_at": row["created_at"], "schema": form.schema}


def latest(engine: IncidentEngine, *, principal: Principal | None = None) -> list[dict[str, Any]]:
    return resource_versions.latest(engine, "form", principal=principal)


def versions(engine: IncidentEngine, key: str, *, principal: Principal | None = None) -> list[dict[str, Any]]:
    return resource_versions.versions(engine, "form", key, principal=principal)


def version(engine: IncidentEngine, key: str, number: int | None = None, *,
            principal: Principal | None = None) -> dict[str, Any]:
    """One version of a form (default: the latest) with its schema."""
    policy.require(principal, "procedures.read")
    with engine.uow(write=False) as uow:
        row = resource_rows.find(uow.conn, "form", key, version=number)
        if row is None:
            raise NotFound(f"no form {key!r}" + (f" version {number}" if number is not None else ""))
        return describe(row, _form(uow.conn, row))


def task_form(engine: IncidentEngine, task_id: str, *, principal: Principal | None = None) -> dict[str, Any] | None:
    """The Camunda form a task shows ({id, key, version, filename, version_tag, deployment_id, created_at,
    schema, binding, by_filename}: how the task names it), or None when the task has generated fields or no form. NotFound for a task the caller may not
    see; Conflict when its form is not deployed. Completing the task (tasks.complete) validates against it."""
    from engine.db import incident_rows

    from .claims import visible_task

    policy.require_any(principal, "tasks.work", policy.TEST_INCIDENTS)
    with engine.uow(write=False) as uow:
        row = visible_task(uow.conn, task_id, principal)
        incident = incident_rows.get(uow.conn, row["incident_id"])
        assert incident is not None
        runtime = engine.runtime_by_id(uow.conn, incident["procedure_id"])
        found = form_of(uow.conn, runtime, row["element_id"], row.get("camunda_form_id"))
        if found is None:
            return None
        user_task = runtime.definition.user_task(row["element_id"])
        ref = user_task.form_ref if user_task is not None else None
        return {**describe(*found), "binding": ref.binding if ref else None,
                "by_filename": bool(ref and ref.by_filename)}
