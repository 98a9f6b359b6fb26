"""Liveness and database reachability for load balancers and compose healthchecks."""
from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import text

from .extensions import engine
from .problems import problem

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz() -> Any:
    try:
        with engine().db.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as err:  # noqa: BLE001 - any database failure means "not healthy"
        return problem(503, "Service unavailable", f"database unreachable: {type(err).__name__}")
    return {"status": "ok", "database": engine().db.dialect.name}
