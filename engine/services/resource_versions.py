"""Listing deployed decision and form versions: the one read both kinds of resource share."""
from __future__ import annotations

from typing import Any

from engine.db import resource_rows
from engine.errors import NotFound
from engine.identity import policy
from engine.identity.principal import Principal

from .engine_app import IncidentEngine


def latest(engine: IncidentEngine, kind: str, *, principal: Principal | None = None) -> list[dict[str, Any]]:
    """The latest version of each resource of `kind` ("decision" or "form")."""
    policy.require(principal, "procedures.read")
    with engine.uow(write=False) as uow:
        return resource_rows.latest_of_each(uow.conn, kind)


def versions(engine: IncidentEngine, kind: str, key: str, *,
             principal: Principal | None = None) -> list[dict[str, Any]]:
    """Every version of one resource; NotFound naming it when there is none."""
    policy.require(principal, "procedures.read")
    with engine.uow(write=False) as uow:
        found = resource_rows.versions(uow.conn, kind, key)
    if not found:
        raise NotFound(f"no {kind} {key!r}")
    return found
