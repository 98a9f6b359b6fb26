"""Reading a deployed file back exactly as it was deployed (Camunda's /deployment/{id}/resources/{id}/data)."""
from __future__ import annotations

from typing import Any

from engine.db import deployment_rows, procedure_rows, resource_rows
from engine.errors import NotFound
from engine.identity import policy
from engine.identity.principal import Principal

from .engine_app import IncidentEngine


def files(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per file of a deployment: {id, filename, kind}; the id is that of the file's first resource
    (a BPMN file with two processes is one file)."""
    seen: dict[str, dict[str, Any]] = {}
    for item in deployment.get("resources") or []:
        seen.setdefault(item["filename"], {"id": item["id"], "filename": item["filename"], "kind": item["kind"]})
    return list(seen.values())


def content(engine: IncidentEngine, deployment_id: str, file_id: str, *,
            principal: Principal | None = None) -> tuple[str, bytes]:
    """(file name, bytes) of one file of a deployment; NotFound naming what is missing."""
    policy.require(principal, "procedures.read")
    with engine.uow(write=False) as uow:
        deployment = deployment_rows.get(uow.conn, deployment_id)
        if deployment is None:
            raise NotFound(f"no deployment {deployment_id}")
        found = next((f for f in files(deployment) if f["id"] == file_id), None)
        if found is None:
            raise NotFound(f"deployment {deployment_id} has no resource {file_id}")
        data = (procedure_rows.bpmn(uow.conn, file_id) if found["kind"] == "process"
                else resource_rows.content(uow.conn, file_id))
    if data is None:
        raise NotFound(f"the file {found['filename']} of deployment {deployment_id} is no longer stored")
    return found["filename"], bytes(data)
