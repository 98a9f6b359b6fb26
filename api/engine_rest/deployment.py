"""Camunda resource `/deployment`: deploy, list and read deployments through the deployments service (issue 13).

`POST /deployment/create` takes the multipart Camunda Modeler and pycamunda send: the reserved fields
(`deployment-name`, `deployment-source`, `enable-duplicate-filtering`, `deploy-changed-only`, `tenant-id`,
`deployment-activation-time`) and one file part per resource, named by its file name. A bad file is
Camunda's 400 `ParseException` whose message starts `ENGINE-09005 Could not parse BPMN process.` (the
prefix Camunda Modeler recognises) with `details` per resource. `GET /deployment?maxResults=0` is the
Modeler's connection probe.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from engine.deployments.resources import kind_of
from engine.errors import Conflict, Invalid, NotFound
from engine.services import deployment_deletion, deployment_files, deployments, procedures

from ..extensions import engine
from ..identity import current_principal
from . import translate as t
from .process_definition import definition_dto

blp = Blueprint("deployment", __name__, url_prefix="/deployment")
RESERVED = {"deployment-name", "deployment-activation-time", "enable-duplicate-filtering", "deploy-changed-only",
            "deployment-source", "tenant-id"}
BPMN_PARSE_PREFIX = "ENGINE-09005 Could not parse BPMN process."


def deployment_dto(row: dict[str, Any]) -> dict[str, Any]:
    return {"links": t.links(f"/deployment/{row['id']}"), "id": row["id"], "name": row.get("name"),
            "source": row.get("source"), "deploymentTime": t.fmt_date(row["created_at"]), "tenantId": None}


def _decision_dto(item: dict[str, Any], deployment_id: str) -> dict[str, Any]:
    return {"id": item["id"], "key": item["key"], "category": None, "name": item.get("name"),
            "version": item["version"], "resource": item["filename"], "deploymentId": deployment_id,
            "decisionRequirementsDefinitionId": None, "decisionRequirementsDefinitionKey": None,
            "tenantId": None, "versionTag": None, "historyTimeToLive": None}


def _with_definitions(row: dict[str, Any], created: bool) -> dict[str, Any]:
    """DeploymentWithDefinitionsDto. When duplicate filtering returned an earlier deployment, Camunda's maps are
    null (the Modeler and pycamunda both accept that); otherwise every process and decision it holds."""
    dto: dict[str, Any] = {**deployment_dto(row), "deployedProcessDefinitions": None,
                           "deployedCaseDefinitions": None, "deployedDecisionDefinitions": None,
                           "deployedDecisionRequirementsDefinitions": None}
    if not created:
        return dto
    resources = row.get("resources") or []
    ids = [r["id"] for r in resources if r["kind"] == "process"]
    found = procedures.search(engine(), ids=ids, principal=current_principal()) if ids else []
    files = {r["id"]: r["filename"] for r in resources}
    dto["deployedProcessDefinitions"] = {d["id"]: {**definition_dto(d), "resource": files[d["id"]]} for d in found}
    decisions = {r["id"]: _decision_dto(r, row["id"]) for r in resources if r["kind"] == "decision"}
    dto["deployedDecisionDefinitions"] = decisions or None
    return dto


def _files() -> list[tuple[str, bytes]]:
    """The resource parts, named by their file names; a part without one is Camunda's 400."""
    if request.mimetype != "multipart/form-data":
        raise t.bad_request("a deployment is sent as multipart/form-data, one part per resource")
    for name in request.form:
        if name not in RESERVED:
            raise t.bad_request(f"No file name found in the deployment resource described by form parameter "
                                f"'{name}'.")
    files = []
    for field, part in request.files.items(multi=True):
        filename = (part.filename or "").strip()
        if not filename:
            raise t.bad_request(f"No file name found in the deployment resource described by form parameter "
                                f"'{field}'.")
        files.append((filename, part.read()))
    if not files:
        raise t.bad_request("No deployment resources contained in the form upload.")
    return files


def _prefix(filename: str, problems: list[Any]) -> str:
    """Camunda's own message for a resource it cannot read, by the resource's type (camunda-compat.md §1a):
    BPMN ENGINE-09005 (the prefix Camunda Modeler recognises), DMN ENGINE-22004 with its DMN-020xx cause
    (02003 unreadable XML, 02004 decisions that cannot be built), Camunda Forms ENGINE-09033."""
    kind = kind_of(filename)
    if kind == "dmn":
        unreadable = any((p.rule or "").startswith("xml.") for p in problems)
        cause = ("DMN-02003 Unable to transform decisions from input stream." if unreadable
                 else "DMN-02004 Error while transforming decisions:")
        return f"ENGINE-22004 Unable to transform DMN resource '{filename}'. {cause}"
    if kind == "form":
        return f"ENGINE-09033 Could not parse Camunda Form resource {filename}. Cause:"
    return BPMN_PARSE_PREFIX


def _parse_error(err: Invalid) -> Response:
    """ParseException with Camunda's message for the first failing resource's type and
    `details: {resource: {errors, warnings}}` for every failing resource.

    Camunda answers a bad DMN or form with 500 ProcessEngineException; here it is a 400 like a bad BPMN
    file (bad input is never a 5xx), with the same message prefix and the ParseException `details`."""
    details: dict[str, dict[str, list[dict[str, Any]]]] = {}
    lines = []
    for p in err.problems:
        resource = p.file or "deployment"
        where = "".join(f" | {label} {value}" for label, value in (
            ("resource", resource), ("line", p.line), ("column", p.column), ("element", p.element_id))
            if value is not None)
        lines.append(f"* {p.message}{where}")
        details.setdefault(resource, {"errors": [], "warnings": []})["errors"].append({
            "message": p.message, "line": p.line, "column": p.column, "mainElementId": p.element_id,
            "elementIds": [p.element_id] if p.element_id else []})
    first = next(p.file for p in err.problems if p.file)
    prefix = _prefix(first, [p for p in err.problems if p.file == first])
    message = f"{prefix} {err.detail.rstrip('.')}. Errors: \n" + "\n".join(lines)
    return t.error_body(400, "ParseException", message, details=details)


@blp.post("/create")
def create() -> Response:
    form = request.form if request.mimetype == "multipart/form-data" else {}
    if form.get("deployment-activation-time"):
        raise t.bad_request("deployment-activation-time is not supported: a procedure version goes live through "
                            "review, a fitness test and approval")
    files = _files()
    try:
        row, created = deployments.deploy_files(
            engine(), files, name=t.text("deployment-name", form), source=t.text("deployment-source", form),
            duplicate_filtering=t.flag("enable-duplicate-filtering", form),
            changed_only=t.flag("deploy-changed-only", form), tenant_id=t.text("tenant-id", form),
            principal=current_principal())
    except Invalid as err:
        if any(p.file for p in err.problems):
            return _parse_error(err)
        raise
    return jsonify(_with_definitions(row, created))


def _query() -> dict[str, Any]:
    t.served(frozenset({"id", "name", "source", "sortBy", "sortOrder"}), what="the deployment query")
    sort = t.text("sortBy")
    if sort not in (None, "deploymentTime") or (t.text("sortOrder") or "desc").lower() != "desc":
        raise t.bad_request("deployments are listed newest first only (sortBy=deploymentTime, sortOrder=desc)")
    first, maximum = t.paging()
    return {"name": t.text("name"), "source": t.text("source"), "offset": first, "limit": maximum}


def _listed(*, paged: bool = True) -> list[dict[str, Any]]:
    query = _query()
    if not paged:
        query.update(offset=0, limit=None)
    wanted = t.text("id")
    if wanted is None:
        return deployments.search(engine(), **query, principal=current_principal())
    try:
        rows = [deployments.get(engine(), wanted, principal=current_principal())]
    except NotFound:
        rows = []
    rows = rows[query["offset"]:]
    return rows if query["limit"] is None else rows[:query["limit"]]


@blp.get("")
def list_deployments() -> Response:
    """Newest first; `maxResults=0` (Camunda Modeler's probe) answers `[]` once the caller is known."""
    return jsonify([deployment_dto(r) for r in _listed()])


@blp.get("/count")
def count_deployments() -> dict[str, int]:
    return {"count": len(_listed(paged=False))}


def _one(deployment_id: str) -> dict[str, Any]:
    try:
        return deployments.get(engine(), deployment_id, principal=current_principal())
    except NotFound:
        raise t.not_found(f"Deployment with id '{deployment_id}' does not exist") from None


@blp.get("/<deployment_id>")
def get_deployment(deployment_id: str) -> dict[str, Any]:
    return deployment_dto(_one(deployment_id))


def _resources(row: dict[str, Any]) -> list[dict[str, Any]]:
    """Camunda's DeploymentResourceDto, one per file (a BPMN file with two processes is one resource)."""
    return [{"id": f["id"], "name": f["filename"], "deploymentId": row["id"]} for f in deployment_files.files(row)]


@blp.get("/<deployment_id>/resources")
def resources(deployment_id: str) -> Response:
    return jsonify(_resources(_one(deployment_id)))


def _no_resource(deployment_id: str, resource_id: str) -> t.RestError:
    return t.not_found(f"Deployment resource with resource id '{resource_id}' for deployment id "
                       f"'{deployment_id}' does not exist.")


@blp.get("/<deployment_id>/resources/<resource_id>")
def resource(deployment_id: str, resource_id: str) -> dict[str, Any]:
    for item in _resources(_one(deployment_id)):
        if item["id"] == resource_id:
            return item
    raise _no_resource(deployment_id, resource_id)


MEDIA_TYPES = {"bpmn": "application/xml", "dmn": "application/xml", "form": "application/json"}


@blp.get("/<deployment_id>/resources/<resource_id>/data")
def resource_data(deployment_id: str, resource_id: str) -> Response:
    """The file's bytes as deployed (what Camunda Modeler and clients download), named in Content-Disposition."""
    _one(deployment_id)
    try:
        filename, data = deployment_files.content(engine(), deployment_id, resource_id,
                                                  principal=current_principal())
    except NotFound:
        raise _no_resource(deployment_id, resource_id) from None
    mimetype = MEDIA_TYPES.get(kind_of(filename) or "", "application/octet-stream")
    response = Response(data, mimetype=mimetype)
    safe = "".join(c if c.isprintable() and c not in '"\\' else "_" for c in filename)
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    return response


@blp.delete("/<deployment_id>")
def delete(deployment_id: str) -> Response:
    """Camunda's delete, onto the deployments' deletion use case (the same as DELETE /api/v1/deployments/{id}).

    `cascade` is honoured (the unfinished test incidents of its versions are purged; without it they refuse
    the delete with Camunda's message and status). `skipCustomListeners` and `skipIoMappings` are accepted
    either way and change nothing: listeners are refused at deploy here, and a purged incident runs no
    activity, so no listener or mapping runs whichever value is sent. A refusal that Camunda does not know
    (a version that entered review, a version another deployment lists, a decision in use) is a 400
    BadUserRequestException saying why."""
    cascade = t.flag("cascade")
    t.flag("skipCustomListeners")  # a bad value is still a 400
    t.flag("skipIoMappings")
    _one(deployment_id)
    try:
        deployment_deletion.delete(engine(), deployment_id, cascade=cascade, principal=current_principal())
    except Conflict as err:
        if err.extra.get("needs_cascade"):
            raise t.RestError(500, f"Deletion of process definition without cascading failed. Deployment with id: "
                                   f"{deployment_id} can't be deleted, since there exists "
                                   f"{err.extra.get('unfinished_incidents')} dependening process instances.",
                              "ProcessEngineException") from None
        if "refusals" in err.extra:
            raise t.RestError(400, err.detail, "BadUserRequestException") from None
        raise
    return Response(status=204)
