"""Use cases for deployments: several BPMN, DMN and form files deployed together, all or nothing.

Rules (docs/deployments.md says the same for designers):
- every file is parsed and checked first; one bad file refuses the whole deployment (nothing stored);
- a resource whose bytes equal an existing version of its key is never stored again: it is listed as
  `unchanged`, pointing at that version (duplicate filtering is per resource, always);
- with `duplicate_filtering`, nothing new and the newest deployment of the same name holding exactly these
  versions, no deployment is made: that one is returned (created False). Otherwise a deployment row is
  made, even when every resource in it is unchanged (as Camunda does);
- references to other resources are checked against this deployment plus what is already deployed.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from engine import clock
from engine.db import deployment_rows, event_rows, procedure_rows, resource_rows
from engine.db.pages import decode_position, encode_cursor
from engine.deployments.references import Reference, check
from engine.deployments.resources import Item, ReadFile, check_filename, read_file
from engine.errors import Conflict, EngineError, Invalid, NotFound, Problem, TooLarge
from engine.events.declarations import declarations
from engine.identity import policy
from engine.identity.principal import Principal

from .engine_app import IncidentEngine


@dataclass
class _Placed:
    """An item of the deployment with the version it gets (new) or already has (unchanged)."""

    file: ReadFile
    item: Item
    row: dict[str, Any]
    created: bool


def _refuse_sizes(engine: IncidentEngine, files: Sequence[tuple[str, bytes]]) -> None:
    settings = engine.settings
    if not files:
        raise Invalid("a deployment needs at least one file", [Problem("send one or more file parts",
                                                                       field="files")])
    if len(files) > settings.max_deployment_files:
        raise Invalid(f"a deployment has at most {settings.max_deployment_files} files; this one has {len(files)}",
                      [Problem(f"at most {settings.max_deployment_files} files", field="files")])
    total = sum(len(data) for _, data in files)
    if total > settings.max_deployment_bytes:
        raise TooLarge(f"the deployment is {total} bytes; the limit is {settings.max_deployment_bytes}",
                       max_bytes=settings.max_deployment_bytes)
    for filename, data in files:
        if len(data) > settings.max_upload_bytes:
            raise TooLarge(f"{filename} is {len(data)} bytes; the limit per file is {settings.max_upload_bytes}",
                           [Problem(f"larger than {settings.max_upload_bytes} bytes", file=filename,
                                    rule="xml.size")], max_bytes=settings.max_upload_bytes)
    problems = [p for p in (check_filename(f) for f, _ in files) if p is not None]
    seen: set[str] = set()
    for filename, _ in files:
        if filename in seen:
            problems.append(Problem(f"{filename} is sent twice", file=filename, rule="deployment.filename"))
        seen.add(filename)
    if problems:
        raise Invalid("the deployment's file names are not usable", problems)


def _read_all(engine: IncidentEngine, files: Sequence[tuple[str, bytes]], name_files: bool,
              process: str | None) -> list[ReadFile]:
    from engine.bpmn.parser import load_procedure  # noqa: F401 - warms the parser import once

    from .procedure_lint import linted_summary
    from .procedures import summarize

    read: list[ReadFile] = []
    problems: list[Problem] = []
    detail = ""
    for filename, data in files:
        try:
            read.append(read_file(filename, data, max_bytes=engine.settings.max_upload_bytes,
                                  summarize=lambda d: linted_summary(d, summarize(d)), single=not name_files,
                                  process=process, limits=engine.settings.model_limits))
        except TooLarge:
            raise
        except EngineError as err:
            if not name_files:
                raise
            problems += err.problems
            detail = detail or err.detail
    if problems:
        many = len({p.file for p in problems}) > 1
        raise Invalid("several files of the deployment are invalid" if many else detail, problems[:100])
    claimed: dict[tuple[str, str], str] = {}
    for f in read:
        for item in f.items:
            other = claimed.setdefault((item.kind, item.key), f.filename)
            if other != f.filename:
                problems.append(Problem(f"{other} and {f.filename} both deploy {item.kind} '{item.key}'",
                                        file=f.filename, element_id=item.key, rule="deployment.duplicate_key"))
    if problems:
        raise Invalid("two resources of the deployment claim the same key", problems)
    return read


def _existing(conn: Any, f: ReadFile, item: Item) -> dict[str, Any] | None:
    if item.kind == "process":
        return procedure_rows.by_sha(conn, item.key, f.sha256)
    return resource_rows.by_sha(conn, item.kind, item.key, f.sha256)


def _place(conn: Any, read: list[ReadFile], deployment_id: str, actor: str | None) -> list[_Placed]:
    now, placed = clock.now(), []
    for f in read:
        for item in f.items:
            existing = _existing(conn, f, item)
            if existing is not None:
                placed.append(_Placed(f, item, existing, False))
                continue
            common = {"id": str(uuid.uuid4()), "key": item.key, "name": item.name, "sha256": f.sha256,
                      "summary": item.summary, "created_at": now, "created_by": actor,
                      "deployment_id": deployment_id, "version_tag": item.version_tag}
            if item.kind == "process":
                row = {**common, "version": procedure_rows.next_version(conn, item.key), "status": "draft"}
            else:
                row = {**common, "kind": item.kind, "filename": f.filename,
                       "version": resource_rows.next_version(conn, item.kind, item.key)}
            placed.append(_Placed(f, item, row, True))
    return placed


def _resolver(conn: Any, placed: list[_Placed]) -> Any:
    def resolve(ref: Reference) -> str | None:
        if ref.by_filename:
            names = {p.file.filename for p in placed if p.item.kind == "form"}
            names |= {n.rpartition("/")[2] for n in names}
            return None if ref.key in names else "this deployment has no form file of that name"
        mine = [p for p in placed if p.item.kind == ref.kind and p.item.key == ref.key]
        if ref.binding == "deployment":
            return None if mine else "this deployment does not contain it"
        if ref.binding == "version" and any(p.row["version"] == ref.version for p in mine):
            return None
        if ref.binding == "versionTag" and any(p.item.version_tag == ref.version_tag for p in mine):
            return None
        if ref.binding == "latest" and mine:
            return None
        version = ref.version if ref.binding == "version" else None
        tag = ref.version_tag if ref.binding == "versionTag" else None
        found = (procedure_rows.find(conn, ref.key, version=version, version_tag=tag) if ref.kind == "process"
                 else resource_rows.find(conn, ref.kind, ref.key, version=version, version_tag=tag))
        return None if found else "neither this deployment nor any earlier one has it"
    return resolve


def _reference_problems(conn: Any, placed: list[_Placed], name_files: bool) -> list[Problem]:
    resolve = _resolver(conn, placed)
    problems: list[Problem] = []
    for f in {id(p.file): p.file for p in placed}.values():
        found = check(list(f.references), resolve)
        problems += [p.in_file(f.filename) if name_files else p for p in found]
    return problems


def _listing(placed: list[_Placed]) -> list[dict[str, Any]]:
    return [{"filename": p.file.filename, "kind": p.item.kind, "key": p.item.key, "id": p.row["id"],
             "version": p.row["version"], "name": p.item.name, "sha256": p.file.sha256,
             "status": "created" if p.created else "unchanged"} for p in placed]


def _store(conn: Any, deployment: dict[str, Any], placed: list[_Placed]) -> None:
    deployment_rows.insert(conn, deployment)
    for p in (p for p in placed if p.created):
        if p.item.kind == "process":
            procedure_rows.insert(conn, {**p.row, "bpmn": p.file.data})
            event_rows.declare(conn, p.row, declarations(p.item.definition))
        else:
            resource_rows.insert(conn, {**p.row, "content": p.file.data})


def deploy_files(engine: IncidentEngine, files: Sequence[tuple[str, bytes]], *, name: str | None = None,
                 source: str | None = None, duplicate_filtering: bool = True, changed_only: bool = True,
                 tenant_id: str | None = None, principal: Principal | None = None,
                 actor: str | None = None) -> tuple[dict[str, Any], bool]:
    """Deploy (filename, bytes) files atomically; (deployment, created). See the module docstring.

    `changed_only` is accepted for Camunda's deploy-changed-only and changes nothing here: a version never
    repeats the bytes of an earlier version of its key, so only changed resources are ever re-versioned.
    Raises Invalid (422; one Problem per thing wrong, each naming its `file`, and line, column, element id
    where known), TooLarge (413), Forbidden, Conflict (a concurrent deployment of the same key; retry).
    """
    deployment, created, _ = _deploy(engine, files, name=name, source=source,
                                     duplicate_filtering=duplicate_filtering, tenant_id=tenant_id,
                                     principal=principal, actor=actor)
    return deployment, created


def _deploy(engine: IncidentEngine, files: Sequence[tuple[str, bytes]], *, name: str | None = None,
            source: str | None = None, duplicate_filtering: bool = True, tenant_id: str | None = None,
            principal: Principal | None = None, actor: str | None = None, name_files: bool = True,
            process: str | None = None) -> tuple[dict[str, Any], bool, list[_Placed]]:
    policy.require(principal, "procedures.upload")
    actor = principal.user_id if principal is not None else actor
    if tenant_id is not None:
        raise Invalid("this engine has no tenants", [Problem(
            "tenants are not supported: deploy without a tenant id", field="tenant_id")])
    _refuse_sizes(engine, files)
    read = _read_all(engine, files, name_files, process)
    for _attempt in range(3):
        with engine.uow() as uow:
            deployment: dict[str, Any] = {"id": str(uuid.uuid4()), "name": name, "source": source, "tenant_id": tenant_id,
                          "created_at": clock.now(), "created_by": actor}
            placed = _place(uow.conn, read, deployment["id"], actor)
            problems = _reference_problems(uow.conn, placed, name_files)
            if problems:
                raise Invalid("the deployment has references that cannot be resolved", problems)
            if not any(p.created for p in placed):
                if not name_files:  # the one-file upload of known bytes: that version, no deployment
                    return deployment, False, placed
                previous = _same_as_previous(uow.conn, deployment, placed) if duplicate_filtering else None
                if previous is not None:
                    return previous, False, placed
            deployment["resources"] = _listing(placed)
            try:
                _store(uow.conn, deployment, placed)
                uow.commit()
            except IntegrityError:
                continue
        for p in (p for p in placed if p.created and p.item.kind == "process"):
            engine.runtime(p.row, definition=p.item.definition)
        return deployment, True, placed
    raise Conflict("another deployment of the same resources was being stored at the same time; retry")


def _same_as_previous(conn: Any, fresh: dict[str, Any], placed: list[_Placed]) -> dict[str, Any] | None:
    """The newest deployment of the same name, when it holds exactly these versions (Camunda's filtering)."""
    previous = deployment_rows.latest_named(conn, fresh["name"], fresh["tenant_id"])
    wanted = {(p.item.kind, p.item.key, p.row["version"]) for p in placed}
    if previous is None or {(r["kind"], r["key"], r["version"]) for r in previous["resources"]} != wanted:
        return None
    return previous


def get(engine: IncidentEngine, deployment_id: str, *, principal: Principal | None = None) -> dict[str, Any]:
    policy.require(principal, "procedures.read")
    with engine.uow(write=False) as uow:
        found = deployment_rows.get(uow.conn, deployment_id)
    if found is None:
        raise NotFound(f"no deployment {deployment_id}")
    return found


def page(engine: IncidentEngine, *, name: str | None = None, source: str | None = None, limit: int = 50,
         cursor: str | None = None, principal: Principal | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """Deployments newest first, a page at a time (an opaque cursor)."""
    policy.require(principal, "procedures.read")
    position = decode_position(cursor)
    with engine.uow(write=False) as uow:
        rows = deployment_rows.search(uow.conn, name=name, source=source, after=position, limit=limit)
    next_cursor = encode_cursor({"t": rows[-1]["created_at"].isoformat(), "id": rows[-1]["id"]}) \
        if len(rows) == limit else None
    return rows, next_cursor


def search(engine: IncidentEngine, *, name: str | None = None, source: str | None = None, offset: int = 0,
           limit: int | None = None, principal: Principal | None = None) -> list[dict[str, Any]]:
    """Deployments newest first, by offset (Camunda's firstResult/maxResults)."""
    policy.require(principal, "procedures.read")
    with engine.uow(write=False) as uow:
        return deployment_rows.search(uow.conn, name=name, source=source, offset=offset, limit=limit)
