"""Use cases for process designers: upload a BPMN procedure, list and read its versions."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.bpmn.model import ProcedureDefinition
from engine.db import procedure_rows
from engine.errors import NotFound, TooLarge
from engine.identity import policy
from engine.identity.principal import Principal

from .engine_app import IncidentEngine


def _field(field: Any) -> dict[str, Any]:
    return {
        "id": field.id, "label": field.label, "type": field.type, "required": field.required,
        "options": [{"id": o.id, "name": o.name} for o in field.options],
        "default": field.default,
    }


def form_fields(user_task: Any) -> list[dict[str, Any]]:
    """A user task's form as JSON-ready field descriptions."""
    return [_field(f) for f in user_task.form]


def summarize(definition: ProcedureDefinition) -> dict[str, Any]:
    """What the API shows about a version, stored beside the XML so listing never re-parses it."""
    return {
        "user_tasks": [
            {"id": t.id, "name": t.name, "lane": t.lane, "candidate_groups": list(t.candidate_groups),
             "candidate_users": list(t.candidate_users), "assignee": t.assignee,
             "documentation": t.documentation, "form": form_fields(t)}
            for t in definition.user_tasks
        ],
        "lanes": list(definition.lanes),
        "properties": dict(definition.process_properties),
        "warnings": [w.as_dict() for w in definition.warnings],
    }


def deploy(engine: IncidentEngine, data: bytes, *, process: str | None = None,
           actor: str | None = None, principal: Principal | None = None,
           filename: str | None = None, source: str = "procedures upload") -> tuple[dict[str, Any], bool]:
    """Store a new version of the procedure in `data`; (version, created). Identical bytes return the existing one.

    A deployment of one file (engine.services.deployments): its references are checked the same way.
    The uploader (the principal, else `actor`) is kept as `created_by`: they may never approve this version.
    """
    from .deployments import _deploy

    policy.require(principal, "procedures.upload")
    if len(data) > engine.settings.max_upload_bytes:
        raise TooLarge(f"the upload is {len(data)} bytes; the limit is {engine.settings.max_upload_bytes}")
    name = filename if filename and filename.lower().endswith((".bpmn", ".bpmn20.xml")) else "upload.bpmn"
    _, created, placed = _deploy(engine, [(name, data)], source=source, principal=principal,
                                 actor=actor, name_files=False, process=process)
    row = dict(placed[0].row)
    row.pop("bpmn", None)
    return row, created


def bundle(path: Path) -> list[tuple[str, bytes]]:
    """What one bundled deployment holds: `<name>.bpmn` and the Camunda Forms beside it, `<name>.*.form`."""
    forms = sorted(path.parent.glob(f"{path.stem}.*.form"))
    return [(p.name, p.read_bytes()) for p in [path, *forms]]


def deploy_directory(engine: IncidentEngine, directory: Path, actor: str = "system") -> list[dict[str, Any]]:
    """Deploy every .bpmn file of a directory (the bundled procedures); unchanged files are no-ops.

    A `<name>.bpmn` with `<name>.*.form` files beside it is deployed with them as one deployment (named
    `<name>`, source "bundled"; duplicate filtering makes a second run a no-op). A `<name>.scenarios.yaml`
    beside `<name>.bpmn` is stored as that version's scenario tests.
    """
    from .deployments import _deploy
    from .scenario_tests import attach_scenario_file

    rows = []
    for path in sorted(directory.glob("*.bpmn")):
        files = bundle(path)
        if len(files) == 1:
            row = deploy(engine, path.read_bytes(), actor=actor, filename=path.name, source="bundled")[0]
        else:
            placed = _deploy(engine, files, name=path.stem, source="bundled", actor=actor)[2]
            row = {k: v for k, v in next(p.row for p in placed if p.item.kind == "process").items() if k != "bpmn"}
        attach_scenario_file(engine, row, path.with_suffix(".scenarios.yaml"), actor)
        rows.append(row)
    return rows


def latest(engine: IncidentEngine, *, principal: Principal | None = None) -> list[dict[str, Any]]:
    policy.require(principal, "procedures.read")
    with engine.uow(write=False) as uow:
        return procedure_rows.latest_of_each(uow.conn)


def versions(engine: IncidentEngine, key: str, *, principal: Principal | None = None) -> list[dict[str, Any]]:
    policy.require(principal, "procedures.read")
    with engine.uow(write=False) as uow:
        found = procedure_rows.versions(uow.conn, key)
    if not found:
        raise NotFound(f"no procedure with key {key!r}")
    return found


def version(engine: IncidentEngine, key: str, number: int, *,
            principal: Principal | None = None) -> dict[str, Any]:
    policy.require(principal, "procedures.read")
    with engine.uow(write=False) as uow:
        found = procedure_rows.get(uow.conn, key, number)
    if found is None:
        raise NotFound(f"procedure {key!r} has no version {number}")
    return found


def bpmn(engine: IncidentEngine, key: str, number: int, *, principal: Principal | None = None) -> bytes:
    found = version(engine, key, number, principal=principal)
    with engine.uow(write=False) as uow:
        data = procedure_rows.bpmn(uow.conn, found["id"])
    assert data is not None
    return data


def search(engine: IncidentEngine, *, key: str | None = None, keys: list[str] | None = None,
           name: str | None = None, number: int | None = None, latest: bool = False,
           ids: list[str] | None = None, offset: int = 0, limit: int | None = None,
           principal: Principal | None = None) -> list[dict[str, Any]]:
    """Versions of every procedure matching the filters (by key, name, version number, id; latest only)."""
    policy.require(principal, "procedures.read")
    with engine.uow(write=False) as uow:
        return procedure_rows.search(uow.conn, key=key, keys=keys, name=name, version=number, latest=latest,
                                     ids=ids, offset=offset, limit=limit)


def by_id(engine: IncidentEngine, procedure_id: str, *, principal: Principal | None = None) -> dict[str, Any]:
    policy.require(principal, "procedures.read")
    with engine.uow(write=False) as uow:
        found = procedure_rows.get_by_id(uow.conn, procedure_id)
    if found is None:
        raise NotFound(f"no procedure version with id {procedure_id}")
    return found
