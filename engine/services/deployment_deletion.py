"""Use case: delete a deployment, whole or not at all, under the rules of engine/deployments/deletion.py.

One transaction: the facts are gathered (the versions' rows locked on PostgreSQL, so a governance action
or a start of the same keys waits), the rules decide, then the test incidents to purge, the versions with
everything hanging off them and the deployment row go, and a `deployment_deletions` row records who
deleted what and when (the audit of the removal; it stays when everything else is gone).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from engine import clock
from engine.bpmn.xmlsafe import parse_xml
from engine.db import (
    deletion_rows,
    deployment_rows,
    governance_rows,
    procedure_rows,
    purge_rows,
    resource_rows,
)
from engine.deployments.deletion import Created, Facts, listing, not_deleted_message, refusals
from engine.deployments.references import collect
from engine.errors import Conflict, EngineError, NotFound
from engine.identity import policy
from engine.identity.principal import Principal

from .engine_app import IncidentEngine


def _created(conn: Any, deployment: dict[str, Any]) -> list[Created]:
    out = []
    for entry in deployment.get("resources") or []:
        if entry.get("status") != "created":
            continue
        status = None
        if entry["kind"] == "process":
            row = procedure_rows.get_by_id(conn, entry["id"])
            if row is None:
                continue
            status = row["status"]
        out.append(Created(entry["filename"], entry["kind"], entry["key"], entry["version"], entry["id"], status))
    return out


def _incidents(conn: Any, procedure_ids: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """The incidents of the versions and their descendants (test children started by their call
    activities), and those whose caller is outside that set."""
    found = {r["id"]: r for r in deletion_rows.incidents_of(conn, procedure_ids)}
    frontier = list(found)
    while frontier:
        children = [c for c in deletion_rows.children_of(conn, frontier) if c["id"] not in found]
        found.update({c["id"]: c for c in children})
        frontier = [c["id"] for c in children]
    outside = sorted(i for i, r in found.items() if r["parent_incident_id"] and r["parent_incident_id"] not in found)
    return list(found.values()), outside


def _in_use(engine: IncidentEngine, conn: Any, created: list[Created], procedure_ids: list[str]) -> list[str]:
    """The decision and form versions of the deployment that an unfinished incident of another procedure
    version resolves now (binding latest, version or version tag), described."""
    mine = {c.id: c for c in created if c.kind != "process"}
    if not mine:
        return []
    uses: dict[str, int] = {}
    for procedure_id in deletion_rows.unfinished_procedures(conn, procedure_ids):
        data = procedure_rows.bpmn(conn, procedure_id)
        if data is None:
            continue
        try:
            refs, _ = collect(parse_xml(bytes(data), max_bytes=engine.settings.max_upload_bytes).getroot())
        except EngineError:
            continue
        for ref in refs:
            if ref.kind == "process" or ref.by_filename or ref.binding == "deployment":
                continue  # a deployment binding names the caller's own deployment, never this one
            row = resource_rows.find(conn, ref.kind, ref.key, version=ref.version if ref.binding == "version" else None,
                                     version_tag=ref.version_tag if ref.binding == "versionTag" else None)
            if row is not None and row["id"] in mine:
                uses[row["id"]] = uses.get(row["id"], 0) + deletion_rows.unfinished_count(conn, procedure_id)
    return [f"{mine[i].describe()} is used by {n} unfinished incident(s) of other deployments"
            for i, n in sorted(uses.items())]


def _lock_keys(conn: Any, created: list[Created]) -> None:
    for key in sorted({c.key for c in created if c.kind == "process"}):
        governance_rows.lock_key(conn, key)


def delete(engine: IncidentEngine, deployment_id: str, *, cascade: bool = False, principal: Principal | None = None,
           actor: str | None = None) -> dict[str, Any]:
    """Delete the deployment and the versions it created; the deletion record.

    NotFound for an unknown id; Conflict (nothing changed) naming every reason it may not go, with
    `refusals` [{kind, message}] and, when the only reason is unfinished test incidents, `needs_cascade`.
    """
    policy.require(principal, "deployments.delete")
    if principal is not None:
        actor = principal.user_id
    try:
        with engine.uow() as uow:
            conn = uow.conn
            deployment = deployment_rows.get(conn, deployment_id)
            if deployment is None:
                raise NotFound(f"no deployment {deployment_id}")
            created = _created(conn, deployment)
            _lock_keys(conn, created)
            created = _created(conn, deployment)  # statuses as they are now that the keys are locked
            procedure_ids = [c.id for c in created if c.kind == "process"]
            found, outside = _incidents(conn, procedure_ids)
            facts = Facts(
                created, live_incidents=sum(1 for r in found if not r["test"]),
                unfinished_test_incidents=sum(1 for r in found if r["test"] and r["ended_at"] is None),
                finished_test_incidents=sum(1 for r in found if r["test"] and r["ended_at"] is not None),
                called_from_outside=outside,
                listed_elsewhere=deletion_rows.listed_elsewhere(conn, [c.id for c in created], deployment_id),
                in_use=_in_use(engine, conn, created, procedure_ids))
            refused = refusals(facts, cascade=cascade)
            if refused:
                raise Conflict(not_deleted_message(deployment_id, refused), deployment_id=deployment_id,
                               refusals=[{"kind": r.kind, "message": r.message} for r in refused],
                               needs_cascade=all(r.kind == "cascade" for r in refused),
                               unfinished_incidents=facts.unfinished_test_incidents)
            purged = purge_rows.delete_incidents(conn, [r["id"] for r in found])
            deletion_rows.delete_versions(conn, deployment_id, procedure_ids,
                                          [c.id for c in created if c.kind != "process"])
            result = deletion_rows.record(conn, {
                "deployment_id": deployment_id, "name": deployment.get("name"), "source": deployment.get("source"),
                "deployed_at": deployment["created_at"], "deployed_by": deployment.get("created_by"),
                "deleted_at": clock.now(), "deleted_by": actor, "cascaded": cascade,
                "resources": listing(deployment.get("resources") or [], {c.id for c in created}),
                "removed_incidents": purged})
            uow.commit()
    except IntegrityError:
        raise Conflict(f"deployment {deployment_id} changed while it was being deleted (an incident or a "
                       "deployment started using it); retry", deployment_id=deployment_id) from None
    return result


def deletions(engine: IncidentEngine, *, deployment_id: str | None = None, limit: int = 50,
              principal: Principal | None = None) -> list[dict[str, Any]]:
    """The deletion records, newest first (the audit of deployments removed)."""
    policy.require(principal, "procedures.read")
    with engine.uow(write=False) as uow:
        return deletion_rows.deletions(uow.conn, deployment_id=deployment_id, limit=limit)
