"""Removing a deployment's rows (its versions and what hangs off them) and recording the removal."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, Text, cast, delete, or_, select

from .tables import deployment_deletions, deployments, incidents, metadata, procedures, resources


def incidents_of(conn: Connection, procedure_ids: Sequence[str]) -> list[dict[str, Any]]:
    """id, test, ended_at and parent_incident_id of every incident running one of the versions."""
    if not procedure_ids:
        return []
    query = select(incidents.c.id, incidents.c.test, incidents.c.ended_at, incidents.c.parent_incident_id) \
        .where(incidents.c.procedure_id.in_(procedure_ids))
    return [dict(r) for r in conn.execute(query).mappings()]


def children_of(conn: Connection, incident_ids: Sequence[str]) -> list[dict[str, Any]]:
    if not incident_ids:
        return []
    query = select(incidents.c.id, incidents.c.test, incidents.c.ended_at, incidents.c.parent_incident_id) \
        .where(incidents.c.parent_incident_id.in_(incident_ids))
    return [dict(r) for r in conn.execute(query).mappings()]


def unfinished_procedures(conn: Connection, excluding: Sequence[str]) -> list[str]:
    """The procedure versions some unfinished incident runs, except `excluding`."""
    query = select(incidents.c.procedure_id).where(incidents.c.ended_at.is_(None)).distinct()
    if excluding:
        query = query.where(incidents.c.procedure_id.notin_(excluding))
    return list(conn.execute(query).scalars())


def unfinished_count(conn: Connection, procedure_id: str) -> int:
    query = select(incidents.c.id).where(incidents.c.procedure_id == procedure_id, incidents.c.ended_at.is_(None))
    return len(conn.execute(query).all())


def listed_elsewhere(conn: Connection, version_ids: Sequence[str], deployment_id: str) -> dict[str, list[str]]:
    """version id -> the other deployments whose listing names it (version ids are UUIDs, so a text match
    on the JSON listing is exact on both dialects)."""
    if not version_ids:
        return {}
    text = cast(deployments.c.resources, Text)
    query = select(deployments.c.id, deployments.c.resources).where(
        deployments.c.id != deployment_id, or_(*[text.like(f"%{v}%") for v in version_ids]))
    found: dict[str, list[str]] = {}
    for row in conn.execute(query).mappings():
        listed = {entry["id"] for entry in row["resources"] or []}
        for version_id in version_ids:
            if version_id in listed:
                found.setdefault(version_id, []).append(row["id"])
    return found


def _hanging_off_procedures() -> list[Table]:
    """Tables with a procedure_id pointing at procedures (incidents excluded: purged first), children first."""
    return [t for t in reversed(metadata.sorted_tables) if t is not incidents and "procedure_id" in t.c
            and any(fk.column.table is procedures for fk in t.c.procedure_id.foreign_keys)]


def delete_versions(conn: Connection, deployment_id: str, procedure_ids: Sequence[str],
                    resource_ids: Sequence[str]) -> None:
    """Delete the procedure versions with every row that hangs off them, the decision and form versions,
    and the deployment row itself."""
    if procedure_ids:
        for table in _hanging_off_procedures():
            conn.execute(delete(table).where(table.c.procedure_id.in_(procedure_ids)))
        conn.execute(delete(procedures).where(procedures.c.id.in_(procedure_ids)))
    if resource_ids:
        conn.execute(delete(resources).where(resources.c.id.in_(resource_ids)))
    conn.execute(delete(deployments).where(deployments.c.id == deployment_id))


def record(conn: Connection, row: dict[str, Any]) -> dict[str, Any]:
    inserted = conn.execute(deployment_deletions.insert().values(**row)).inserted_primary_key
    return {"id": inserted[0] if inserted else None, **row}


def deletions(conn: Connection, *, deployment_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Deletion records, newest first."""
    query = select(deployment_deletions)
    if deployment_id is not None:
        query = query.where(deployment_deletions.c.deployment_id == deployment_id)
    query = query.order_by(deployment_deletions.c.id.desc()).limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]
