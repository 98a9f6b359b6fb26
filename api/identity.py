"""Who is calling: the actor recorded on every audited transition."""
from __future__ import annotations

from flask import g


def current_actor() -> str | None:
    """The authenticated user's id, or None when the request is not authenticated."""
    return getattr(g, "actor", None)
