"""Who is calling: the principal from the bearer token, and the actor recorded on every audited transition."""
from __future__ import annotations

from flask import g

from engine.identity.principal import Principal


def current_actor() -> str | None:
    """The authenticated user's id, or None when the request is not authenticated."""
    return getattr(g, "actor", None)


def current_principal() -> Principal:
    """The authenticated caller. Fails closed: services treat a missing principal as an unchecked
    internal caller, so an unauthenticated request must never reach one."""
    principal = getattr(g, "principal", None)
    if not isinstance(principal, Principal):
        raise RuntimeError("no authenticated principal on a protected endpoint")
    return principal


def require_incident_visible(incident_id: str) -> None:
    """404 unless the caller may read the incident (agents: only incidents they take part in; ops: any)."""
    from engine.services import incidents

    from .extensions import engine

    principal = current_principal()
    if not principal.has_role("ops"):
        incidents.get(engine(), incident_id, principal=principal)
