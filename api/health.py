"""Liveness (`/healthz`: the process answers and can read the database) and readiness (`/readyz`: it can write).

`/healthz` only reads, in a read transaction: on SQLite it never takes the write lock, so it answers at once
while writers run (WAL readers do not wait for writers). `/readyz` asks whether a write could start now.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import text

from engine.db.database import writable

from .extensions import engine
from .problems import problem

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz() -> Any:
    try:
        with engine().uow(write=False) as uow:
            uow.conn.execute(text("SELECT 1"))
    except Exception as err:  # noqa: BLE001 - any database failure means "not healthy"
        return problem(503, "Service unavailable", f"database unreachable: {type(err).__name__}")
    return {"status": "ok", "database": engine().db.dialect.name}


@blp.get("/readyz")
def readyz() -> Any:
    why = writable(engine().db)
    if why is not None:
        return problem(503, "Service unavailable", f"the database does not take writes now: {why}")
    return {"status": "ready", "database": engine().db.dialect.name, "writable": True}
