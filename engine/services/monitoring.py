"""Use cases for ops and supervisors: a procedure's metrics, its criteria status, its recommendations."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from engine import clock
from engine.db import criteria_rows, procedure_rows
from engine.errors import Invalid, NotFound, Problem
from engine.monitoring.criteria import evaluate_criterion
from engine.monitoring.metrics import compute
from engine.monitoring.model_info import ModelInfo, model_info
from engine.monitoring.recommendations import Limits, recommend
from engine.monitoring.window_sql import Window

from .engine_app import IncidentEngine

HISTORY_WINDOWS = 3


def window_bounds(engine: IncidentEngine, since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """[since, until): until defaults to now, since to MONITORING_WINDOW_DAYS before until."""
    until = until or clock.now()
    since = since or until - timedelta(days=engine.settings.monitoring_window_days)
    if since >= until:
        raise Invalid("the window is empty", [Problem("since must be before until", field="since")])
    return since, until


def _model(engine: IncidentEngine, conn: Connection, key: str, version: int | None) -> ModelInfo:
    row = procedure_rows.get(conn, key, version)
    if row is None:
        raise NotFound(f"no procedure {key!r}" + (f" version {version}" if version is not None else ""))
    return model_info(engine.runtime(row).definition)


def procedure_metrics(engine: IncidentEngine, key: str, *, since: datetime | None = None,
                      until: datetime | None = None, version: int | None = None,
                      filter: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every metric of a procedure (one version, or all) over the window."""
    since, until = window_bounds(engine, since, until)
    with engine.uow(write=False) as uow:
        info = _model(engine, uow.conn, key, version)
        return compute(uow.conn, Window(key, since, until, version, dict(filter or {})), info)


def evaluate_criteria(engine: IncidentEngine, conn: Connection, criteria: list[dict[str, Any]], since: datetime,
              until: datetime, margin: float, cache: dict[Any, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each criterion evaluated over [since, until), on metrics computed once per (procedure, filter)."""
    results = []
    for criterion in criteria:
        key, filt = criterion.get("procedure_key"), dict(criterion.get("filter") or {})
        slot = (key, repr(sorted(filt.items())), since, until)
        if slot not in cache:
            info = model_info(engine.runtime(row).definition) \
                if key and (row := procedure_rows.get(conn, key)) is not None else ModelInfo()
            cache[slot] = compute(conn, Window(key, since, until, None, filt), info)
        results.append({**evaluate_criterion(criterion, cache[slot], margin,
                                             min_sample=engine.settings.monitoring_min_sample),
                        "objective_id": criterion.get("objective_id"), "procedure": key, "filter": filt})
    return results


def criteria_status(engine: IncidentEngine, *, objective: str | None = None, since: datetime | None = None,
                    until: datetime | None = None, margin: float | None = None) -> dict[str, Any]:
    """Each agreed criterion (of one objective, or all) evaluated over the window."""
    since, until = window_bounds(engine, since, until)
    margin = engine.settings.monitoring_margin if margin is None else margin
    with engine.uow(write=False) as uow:
        criteria = criteria_rows.listing(uow.conn, objective=objective)
        items = evaluate_criteria(engine, uow.conn, criteria, since, until, margin, {})
    return {"objective": objective, "since": since, "until": until, "margin": margin, "items": items}


def recommendations(engine: IncidentEngine, key: str, *, since: datetime | None = None,
                    until: datetime | None = None, version: int | None = None) -> dict[str, Any]:
    """Ranked recommendations for a procedure, from the window's metrics and the criteria of the last
    HISTORY_WINDOWS windows of the same length (for criteria missed in a row)."""
    since, until = window_bounds(engine, since, until)
    with engine.uow(write=False) as uow:
        info = _model(engine, uow.conn, key, version)
        metrics = compute(uow.conn, Window(key, since, until, version), info)
        criteria = criteria_rows.listing(uow.conn, procedure=key)
        history: list[list[dict[str, Any]]] = []
        cache: dict[Any, dict[str, Any]] = {}
        length = until - since
        for back in range(HISTORY_WINDOWS - 1, -1, -1) if criteria else ():
            history.append(evaluate_criteria(engine, uow.conn, criteria, since - back * length, until - back * length,
                                     engine.settings.monitoring_margin, cache))
    limits = Limits(min_sample=engine.settings.monitoring_min_sample)
    items = recommend(metrics, {"criteria": history}, limits)
    return {"procedure": key, "since": since, "until": until, "version": version, "items": items,
            "metrics": metrics, "none_because": None if items else _none_because(metrics, limits.min_sample)}


def _none_because(metrics: dict[str, Any], min_sample: int) -> str:
    """Why no rule fired, in words (an empty list alone reads as a fault)."""
    completed = int((metrics.get("cycle_time") or {}).get("count") or 0)
    started = int((metrics.get("incidents") or {}).get("started_in_window") or 0)
    if completed < min_sample:
        return (f"not enough data yet: every rule needs at least {min_sample} observations in the window "
                f"(MONITORING_MIN_SAMPLE), and {completed} of the {started} incidents started in it have completed")
    return (f"nothing to recommend: with {completed} incidents completed in the window, no rule found a "
            "bottleneck, a failing check, a breached SLA, rework, an unused path, a growing queue or a missed criterion")
