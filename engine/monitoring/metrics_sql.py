"""The windowed queries behind the metrics: each one indexed GROUP BY or a narrow fetch of seconds.

Each function returns plain tuples; engine.monitoring.metrics turns them into figures. Indexes used:
audit (procedure_key, kind, at), tasks (procedure_key, created_at) and (procedure_key, ended_at),
incidents (procedure_key, ended_at) and (procedure_key, created_at), check_results (procedure_key, at).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, and_, case, column, func, or_, select, true
from sqlalchemy.dialects.postgresql import JSONB

from engine.db.tables import audit, check_results, incidents, tasks

from .window_sql import Window, rows, scoped, seconds

INCIDENT_KINDS = ("incident_started", "incident_completed", "incident_cancelled", "incident_error")


def incident_events(conn: Connection, w: Window) -> list[Any]:
    """(version, kind, count) of incident lifecycle events in the window."""
    query = (select(audit.c.procedure_version, audit.c.kind, func.count())
             .where(audit.c.kind.in_(INCIDENT_KINDS), audit.c.at >= w.since, audit.c.at < w.until)
             .group_by(audit.c.procedure_version, audit.c.kind))
    return rows(conn, scoped(query, w, incident_id=audit.c.incident_id, version=audit.c.procedure_version,
                             procedure=audit.c.procedure_key))


def incident_cohort(conn: Connection, w: Window) -> list[Any]:
    """(version, started in window, of those completed by the end, open at the end of the window)."""
    started = and_(incidents.c.created_at >= w.since, incidents.c.created_at < w.until)
    completed = and_(started, incidents.c.status == "completed", incidents.c.ended_at < w.until)
    still_open = and_(incidents.c.created_at < w.until, incidents.c.status != "error",
                      or_(incidents.c.ended_at.is_(None), incidents.c.ended_at >= w.until))
    query = (select(incidents.c.procedure_version,
                    func.sum(case((started, 1), else_=0)), func.sum(case((completed, 1), else_=0)),
                    func.sum(case((still_open, 1), else_=0)))
             .where(incidents.c.created_at < w.until,
                    or_(incidents.c.ended_at.is_(None), incidents.c.ended_at >= w.since))
             .group_by(incidents.c.procedure_version))
    return rows(conn, scoped(query, w, incident_id=incidents.c.id, version=incidents.c.procedure_version,
                             procedure=incidents.c.procedure_key))


def cycle_times(conn: Connection, w: Window) -> Select[Any]:
    """(version, seconds from start to completion) of each incident completed in the window."""
    query = (select(incidents.c.procedure_version, seconds(conn, incidents.c.ended_at, incidents.c.created_at))
             .where(incidents.c.status == "completed", incidents.c.ended_at >= w.since,
                    incidents.c.ended_at < w.until))
    return scoped(query, w, incident_id=incidents.c.id, version=incidents.c.procedure_version,
                  procedure=incidents.c.procedure_key)


def _wait(conn: Connection) -> Any:
    return seconds(conn, func.coalesce(tasks.c.claimed_at, tasks.c.ended_at), tasks.c.created_at)


def task_durations(conn: Connection, w: Window) -> Select[Any]:
    """(element id, wait seconds, work seconds or None) of each user task completed in the window.

    Wait runs from ready to claimed, work from claimed to completed; a task completed without a claim
    waited the whole time and has no work figure."""
    query = (select(tasks.c.element_id, _wait(conn), seconds(conn, tasks.c.ended_at, tasks.c.claimed_at))
             .where(tasks.c.state == "completed", tasks.c.ended_at >= w.since, tasks.c.ended_at < w.until))
    return scoped(query, w, incident_id=tasks.c.incident_id, procedure=tasks.c.procedure_key)


def _ready_in_window(w: Window) -> Select[Any]:
    query = select(tasks).where(tasks.c.created_at >= w.since, tasks.c.created_at < w.until)
    return query.where(tasks.c.procedure_key == w.procedure) if w.procedure is not None else query


def task_arrivals(conn: Connection, w: Window) -> Select[Any]:
    """(element id, seconds from incident start to the task's first instance, instances) per element and
    incident, of the tasks that became ready in the window; more than one instance is a rework loop."""
    ready = _ready_in_window(w).subquery()
    grouped = (select(ready.c.element_id, ready.c.incident_id, func.count().label("instances"),
                      func.min(ready.c.created_at).label("first_at"))
               .group_by(ready.c.element_id, ready.c.incident_id).subquery())
    outer = (select(grouped.c.element_id, seconds(conn, grouped.c.first_at, incidents.c.created_at),
                    grouped.c.instances)
             .select_from(grouped).join(incidents, incidents.c.id == grouped.c.incident_id))
    return scoped(outer, w, incident_id=incidents.c.id, version=incidents.c.procedure_version)


def incident_loops(conn: Connection, w: Window) -> Any:
    """(incidents with tasks ready in the window, extra task passes, incidents with any, most in one)."""
    ready = _ready_in_window(w).subquery()
    per_incident = scoped(select((func.count() - func.count(func.distinct(ready.c.element_id))).label("loops"))
                          .select_from(ready), w, incident_id=ready.c.incident_id)
    inner = per_incident.group_by(ready.c.incident_id).subquery()
    return conn.execute(select(func.count(), func.sum(inner.c.loops),
                               func.sum(case((inner.c.loops > 0, 1), else_=0)), func.max(inner.c.loops))).one()


def waits_of_completed_incidents(conn: Connection, w: Window) -> list[Any]:
    """(element id, total wait seconds) over the tasks of the incidents completed in the window."""
    query = (select(tasks.c.element_id, func.sum(_wait(conn)))
             .join(incidents, incidents.c.id == tasks.c.incident_id)
             .where(tasks.c.state == "completed", incidents.c.status == "completed",
                    incidents.c.ended_at >= w.since, incidents.c.ended_at < w.until)
             .group_by(tasks.c.element_id))
    return rows(conn, scoped(query, w, incident_id=incidents.c.id, version=incidents.c.procedure_version,
                             procedure=incidents.c.procedure_key))


def lane_flow(conn: Connection, w: Window) -> list[Any]:
    """(lane, arrived, drained, open at the start, open at the end) of the window's task queues."""
    def between(column: Any) -> Any:
        return and_(column >= w.since, column < w.until)

    def open_at(moment: Any) -> Any:
        return and_(tasks.c.created_at < moment, or_(tasks.c.ended_at.is_(None), tasks.c.ended_at >= moment))

    query = (select(tasks.c.lane, *(func.sum(case((cond, 1), else_=0)) for cond in (
                between(tasks.c.created_at), between(tasks.c.ended_at), open_at(w.since), open_at(w.until))))
             .where(tasks.c.created_at < w.until, or_(tasks.c.ended_at.is_(None), tasks.c.ended_at >= w.since))
             .group_by(tasks.c.lane))
    return rows(conn, scoped(query, w, incident_id=tasks.c.incident_id, procedure=tasks.c.procedure_key))


def open_task_starts(conn: Connection, w: Window) -> list[Any]:
    """(lane, ready since) of every task still open at the end of the window."""
    query = select(tasks.c.lane, tasks.c.created_at).where(
        tasks.c.created_at < w.until, or_(tasks.c.ended_at.is_(None), tasks.c.ended_at >= w.until))
    return rows(conn, scoped(query, w, incident_id=tasks.c.incident_id, procedure=tasks.c.procedure_key))


def check_outcomes(conn: Connection, w: Window) -> list[Any]:
    """(check, gateway id, outcome, first attempt?, count) of the check results in the window."""
    first = check_results.c.attempt == 1
    query = (select(check_results.c.check_name, check_results.c.gateway_id, check_results.c.outcome,
                    first, func.count())
             .where(check_results.c.at >= w.since, check_results.c.at < w.until)
             .group_by(check_results.c.check_name, check_results.c.gateway_id, check_results.c.outcome, first))
    return rows(conn, scoped(query, w, incident_id=check_results.c.incident_id,
                             version=check_results.c.procedure_version, procedure=check_results.c.procedure_key))


def audit_of_kind(conn: Connection, w: Window, kind: str) -> list[Any]:
    """(element id, incident id, data) of the audit rows of one kind in the window (gateways, SLA breaches)."""
    query = (select(audit.c.element_id, audit.c.incident_id, audit.c.data)
             .where(audit.c.kind == kind, audit.c.at >= w.since, audit.c.at < w.until))
    return rows(conn, scoped(query, w, incident_id=audit.c.incident_id, version=audit.c.procedure_version,
                             procedure=audit.c.procedure_key))


def gateway_decisions(conn: Connection, w: Window) -> tuple[list[Any], list[Any]]:
    """(gateway, times decided) and (gateway, flow, times taken) in the window, counted in the database
    (the flows come from each decision's `taken` list: jsonb_array_elements / json_each)."""
    decided = (select(audit.c.element_id, func.count())
               .where(audit.c.kind == "gateway", audit.c.at >= w.since, audit.c.at < w.until)
               .group_by(audit.c.element_id))
    if conn.dialect.name == "postgresql":
        taken = func.jsonb_array_elements(audit.c.data["taken"]).table_valued(column("value", JSONB)).alias("t")
        flow: Any = taken.c.value.op("->>")("flow")
    else:
        taken = func.json_each(audit.c.data, "$.taken").table_valued("value").alias("t")
        flow = func.json_extract(taken.c.value, "$.flow")
    flows = (select(audit.c.element_id, flow, func.count()).select_from(audit.join(taken, true()))
             .where(audit.c.kind == "gateway", audit.c.at >= w.since, audit.c.at < w.until)
             .group_by(audit.c.element_id, flow))
    scope = {"incident_id": audit.c.incident_id, "version": audit.c.procedure_version,
             "procedure": audit.c.procedure_key}
    return rows(conn, scoped(decided, w, **scope)), rows(conn, scoped(flows, w, **scope))
