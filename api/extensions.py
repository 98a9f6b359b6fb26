"""Access to the per-app engine object from views."""
from __future__ import annotations

from flask import current_app

from engine.services.engine_app import IncidentEngine


def engine() -> IncidentEngine:
    return current_app.extensions["incident_engine"]  # type: ignore[no-any-return]
