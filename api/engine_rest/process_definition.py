"""Camunda resource `/process-definition`: our procedure versions, their XML, and starting an incident on one."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from engine.errors import NotFound
from engine.services import deployments, incidents, procedures

from ..extensions import engine
from ..identity import current_principal
from . import translate as t
from .process_instance import instance_dto

blp = Blueprint("process_definition", __name__, url_prefix="/process-definition")


def definition_dto(row: dict[str, Any]) -> dict[str, Any]:
    """A procedure version as Camunda's ProcessDefinitionDto (every key pycamunda indexes, even when null)."""
    return {
        "id": row["id"], "key": row["key"], "category": "http://bpmn.io/schema/bpmn",
        "description": None, "name": row.get("name"), "version": row["version"],
        "resource": row.get("resource") or f"{row['key']}.bpmn",
        "deploymentId": row.get("deployment_id") or row["id"], "diagram": None,
        "suspended": row.get("status") == "retired", "tenantId": None, "versionTag": row.get("version_tag"),
        "historyTimeToLive": None, "startableInTasklist": True,
    }


QUERY = frozenset({"key", "keysIn", "name", "version", "latestVersion", "processDefinitionId", "processDefinitionIdIn",
                   "deploymentId"})


def _deployed_by(deployment_id: str) -> list[str]:
    """The process definitions a deployment created (Camunda's deploymentId filter)."""
    try:
        row = deployments.get(engine(), deployment_id, principal=current_principal())
    except NotFound:
        return []
    return [r["id"] for r in row.get("resources") or [] if r["kind"] == "process" and r.get("status") == "created"]


def _query() -> dict[str, Any]:
    t.served(QUERY, what="the process-definition query")
    first, maximum = t.paging()
    one = t.text("processDefinitionId")
    ids = t.listed("processDefinitionIdIn") + ([one] if one else [])
    deployment_id = t.text("deploymentId")
    if deployment_id is not None:
        mine = _deployed_by(deployment_id)
        ids = [i for i in ids if i in mine] if ids else mine
        ids = ids or ["-"]  # nothing matches
    return {"key": t.text("key"), "keys": t.listed("keysIn") or None, "name": t.text("name"),
            "number": t.integer("version", minimum=1), "latest": t.flag("latestVersion"),
            "ids": ids or None, "offset": first, "limit": maximum}


@blp.get("")
def list_definitions() -> Response:
    rows = procedures.search(engine(), **_query(), principal=current_principal())
    return jsonify([definition_dto(r) for r in rows])


@blp.get("/count")
def count_definitions() -> dict[str, Any]:
    query = {**_query(), "offset": 0, "limit": None}
    return {"count": len(procedures.search(engine(), **query, principal=current_principal()))}


def _by_key(key: str) -> dict[str, Any]:
    found = procedures.search(engine(), key=key, latest=True, principal=current_principal())
    if not found:
        raise t.not_found(f"No matching process definition with key: {key} and no tenant-id")
    return found[0]


def _by_id(definition_id: str) -> dict[str, Any]:
    found = procedures.search(engine(), ids=[definition_id], principal=current_principal())
    if not found:
        raise t.not_found(f"No matching definition with id {definition_id}")
    return found[0]


@blp.get("/<definition_id>")
def get_definition(definition_id: str) -> dict[str, Any]:
    return definition_dto(_by_id(definition_id))


@blp.get("/key/<key>")
def get_definition_by_key(key: str) -> dict[str, Any]:
    return definition_dto(_by_key(key))


def _xml(row: dict[str, Any]) -> dict[str, Any]:
    data = procedures.bpmn(engine(), row["key"], row["version"], principal=current_principal())
    return {"id": row["id"], "bpmn20Xml": data.decode("utf-8", errors="replace")}


@blp.get("/<definition_id>/xml")
def get_xml(definition_id: str) -> dict[str, Any]:
    return _xml(_by_id(definition_id))


@blp.get("/key/<key>/xml")
def get_xml_by_key(key: str) -> dict[str, Any]:
    return _xml(_by_key(key))


def _start(row: dict[str, Any], *, pinned: bool = True) -> dict[str, Any]:
    """Start an instance of this definition (`pinned`) or, by key, of the procedure's active version: only an
    active version takes live incidents, and the engine's 409 says what to do otherwise."""
    body = t.body()
    if body.get("startInstructions"):
        raise t.bad_request("startInstructions are not supported: an incident starts at its start event")
    variables = t.variables_in(body.get("variables"))
    business_key = body.get("businessKey")
    if business_key is not None and not isinstance(business_key, str):
        raise t.bad_request("businessKey must be a string")
    view, _created = incidents.start(engine(), procedure=row["key"], version=row["version"] if pinned else None,
                                     reference=business_key or None, data=variables,
                                     principal=current_principal())
    dto = instance_dto(view)
    if t.flag("withVariablesInReturn", body):
        dto["variables"] = t.variables_out(view["data"])
    return dto


@blp.post("/<definition_id>/start")
def start(definition_id: str) -> dict[str, Any]:
    return _start(_by_id(definition_id))


@blp.post("/key/<key>/start")
def start_by_key(key: str) -> dict[str, Any]:
    return _start(_by_key(key), pinned=False)


@blp.route("/key/<key>/tenant-id/<tenant>/<path:rest>", methods=["GET", "POST"])
@blp.route("/key/<key>/tenant-id/<tenant>", methods=["GET"])
def tenant(key: str, tenant: str, rest: str = "") -> Response:
    raise t.bad_request(f"tenant '{tenant}': multi-tenancy is not supported by this engine; "
                        f"use /process-definition/key/{key}/{rest}".rstrip("/"))
