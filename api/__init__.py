"""The HTTP edge of the engine: the Flask app factory (api.app) and the `incident-engine` command (api.cli).

`create_app` is imported lazily so that the command, and the gunicorn master it starts, do not load Flask,
SpiffWorkflow and every blueprint just to parse arguments.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(settings: Any = None, engine: Any = None) -> Flask:
    """Build the Flask app (see api.app.create_app)."""
    from .app import create_app as build

    return build(settings, engine)
