"""Use cases for strategy: strategies (aims), objectives under them and agreed criteria under objectives."""
from __future__ import annotations

import uuid
from typing import Any

from engine import clock
from engine.db import procedure_rows, strategy_rows
from engine.db.pages import decode_position, encode_cursor
from engine.errors import Invalid, NotFound, Problem
from engine.governance import criteria as rules

from .engine_app import IncidentEngine

_PARENT = {"objective": ("strategy", "strategy_id"), "criterion": ("objective", "objective_id")}


def criterion_view(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "text": rules.describe(row)}


def _element_problem(engine: IncidentEngine, conn: Any, body: dict[str, Any]) -> Problem | None:
    """A criterion about a task, check or timer of a named procedure must name one that exists in its latest version."""
    metric = rules.METRICS[body["metric"]]
    wanted = (body.get("params") or {}).get(metric.parameter or "")
    proc = procedure_rows.get(conn, body["procedure_key"]) if body.get("procedure_key") and wanted else None
    if proc is None:
        return None
    from engine.governance.outline import outline

    found = outline(engine.runtime(proc).definition)
    known = {"task": found["tasks"], "check": found["checks"], "timer": found["timers"]}[metric.parameter or ""]
    if wanted in known:
        return None
    return Problem(f"{body['procedure_key']} v{proc['version']} has no {metric.parameter} {wanted!r}; "
                   f"known: {', '.join(known) or 'none'}", field=f"params.{metric.parameter}")


def create(engine: IncidentEngine, kind: str, body: dict[str, Any], *, actor: str | None = None,
           principal: Any = None) -> dict[str, Any]:
    """Create a strategy, an objective (under a strategy) or a criterion (under an objective)."""
    row = {"id": str(uuid.uuid4()), **body, "created_by": actor, "created_at": clock.now()}
    if kind == "criterion":
        row.setdefault("params", {})
        row.setdefault("filter", {})
        rules.validate(row)
    with engine.uow() as uow:
        if kind in _PARENT:
            parent, column = _PARENT[kind]
            if strategy_rows.get(uow.conn, parent, row[column]) is None:
                raise Invalid(f"there is no {parent} {row[column]}", [Problem(f"unknown {parent}", field=column)])
        if kind == "criterion":
            problem = _element_problem(engine, uow.conn, row)
            if problem is not None:
                raise Invalid("the criterion names an element the procedure does not have", [problem])
        strategy_rows.insert(uow.conn, kind, row)
        uow.commit()
    return criterion_view(row) if kind == "criterion" else row


def get(engine: IncidentEngine, kind: str, row_id: str) -> dict[str, Any]:
    """One strategy (with its objectives) or objective (with its criteria) or criterion."""
    with engine.uow(write=False) as uow:
        row = strategy_rows.get(uow.conn, kind, row_id)
        if row is None:
            raise NotFound(f"no {kind} {row_id}")
        if kind == "strategy":
            row["objectives"] = strategy_rows.page(uow.conn, "objective", filters={"strategy_id": row_id},
                                                   limit=1000, after=None)
        elif kind == "objective":
            row["criteria"] = [criterion_view(c) for c in strategy_rows.page(
                uow.conn, "criterion", filters={"objective_id": row_id}, limit=1000, after=None)]
    return criterion_view(row) if kind == "criterion" else row


def page(engine: IncidentEngine, kind: str, *, filters: dict[str, Any] | None = None, limit: int = 50,
         cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    position = decode_position(cursor)
    with engine.uow(write=False) as uow:
        rows = strategy_rows.page(uow.conn, kind, filters=filters or {}, limit=limit, after=position)
    next_cursor = encode_cursor({"t": rows[-1]["created_at"].isoformat(), "id": rows[-1]["id"]}) \
        if len(rows) == limit else None
    return [criterion_view(r) if kind == "criterion" else r for r in rows], next_cursor
