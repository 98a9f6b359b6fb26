"""Camunda resource `/version`: the API level this dialect speaks (Camunda Modeler reads it for telemetry)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint

blp = Blueprint("version", __name__)

CAMUNDA_VERSION = "7.24.0"


@blp.get("/version")
def get_version() -> dict[str, Any]:
    return {"version": CAMUNDA_VERSION}
