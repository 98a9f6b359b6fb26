"""A procedure's metrics over a time window, from the audit trail and the tasks, incidents and check tables.

Window rules (half-open [since, until)): lifecycle counts are events in the window; cycle time is of the
incidents completed in it; wait and work are of the tasks completed in it; arrivals, rework and time to
reach a task are of the tasks that became ready in it; `open` is at the end of the window.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, case, func, select

from . import metrics_sql as q
from .distributions import grouped
from .model_info import ModelInfo
from .stats import share, summary
from .window_sql import Window

_EVENT_NAMES = {"incident_started": "started", "incident_completed": "completed",
                "incident_cancelled": "cancelled", "incident_error": "in_error"}


def _counts() -> dict[str, int]:
    return {"started": 0, "completed": 0, "cancelled": 0, "in_error": 0, "open": 0,
            "started_in_window": 0, "started_and_completed": 0}


def _incidents(conn: Connection, w: Window) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    by_version: dict[int, dict[str, Any]] = defaultdict(_counts)
    for version, kind, count in q.incident_events(conn, w):
        by_version[version][_EVENT_NAMES[kind]] += int(count)
    for version, started, completed, still_open in q.incident_cohort(conn, w):
        figures = by_version[version]
        figures["started_in_window"] += int(started or 0)
        figures["started_and_completed"] += int(completed or 0)
        figures["open"] += int(still_open or 0)
    total = _counts()
    for figures in by_version.values():
        for key in total:
            total[key] += figures[key]
    for figures in [total, *by_version.values()]:
        figures["completed_share"] = share(figures["started_and_completed"], figures["started_in_window"])
    return total, by_version


def _tasks(conn: Connection, w: Window, info: ModelInfo, cycle_total: float) -> tuple[list[dict[str, Any]],
                                                                                   dict[str, Any]]:
    durations = grouped(conn, q.task_durations(conn, w), 1, 2)
    arrivals = grouped(conn, q.task_arrivals(conn, w), 1, 1, extras=(
        lambda sub: func.count(), lambda sub: func.sum(list(sub.c)[2]),
        lambda sub: func.sum(case((list(sub.c)[2] > 1, 1), else_=0))))
    in_completed = {element: float(total or 0) for element, total in q.waits_of_completed_incidents(conn, w)}
    found = sorted({key[0] for key in [*durations, *arrivals]})
    items = []
    for element in dict.fromkeys([*info.tasks, *found]):
        model = info.tasks.get(element, {})
        wait, work = durations.get((element,), ([summary([]), summary([])], []))[0]
        [reached], extra = arrivals.get((element,), ([summary([])], [0, 0, 0]))
        incidents, instances, reworked = (int(v or 0) for v in extra)
        items.append({
            "element_id": element, "name": model.get("name"), "lane": model.get("lane"),
            "incidents": incidents, "instances": instances, "completed": wait["count"], "wait": wait, "work": work,
            "reached_after": reached, "wait_in_completed_incidents": round(in_completed.get(element, 0.0), 3),
            "wait_share": round(in_completed[element] / cycle_total, 4)
            if cycle_total and element in in_completed else None,
            "rework": {"incidents": reworked, "loops": instances - incidents, "share": share(reworked, incidents)},
        })
    counted, loops, with_rework, most = q.incident_loops(conn, w)
    rework = {"incidents": int(counted), "loops": int(loops or 0), "incidents_with_rework": int(with_rework or 0),
              "per_incident": round(int(loops or 0) / counted, 4) if counted else None,
              "max": int(most) if most is not None else None}
    return items, rework


def _checks(conn: Connection, w: Window, info: ModelInfo) -> list[dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, int]] = {}
    for check, gateway, outcome, first, count in q.check_outcomes(conn, w):
        figures = found.setdefault((check, gateway), {"reached": 0, "first_time_passed": 0, "evaluations": 0,
                                                      "failures": 0, "overrides": 0})
        if outcome in ("passed", "failed"):
            figures["evaluations"] += count
            figures["reached"] += count if first else 0
            figures["first_time_passed"] += count if first and outcome == "passed" else 0
        figures["failures"] += count if outcome == "failed" else 0
        figures["overrides"] += count if outcome == "overridden" else 0
    for gateway, declared in info.checks.items():
        found.setdefault((declared["check"], gateway), {"reached": 0, "first_time_passed": 0,
                                                        "evaluations": 0, "failures": 0, "overrides": 0})
    return [{"check": check, "gateway_id": gateway, **figures,
             "first_time_pass_rate": share(figures["first_time_passed"], figures["reached"]),
             "before": info.checks.get(gateway, {}).get("before", [])}
            for (check, gateway), figures in sorted(found.items())]


def _sla(conn: Connection, w: Window, info: ModelInfo, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    late: dict[str, list[float | None]] = defaultdict(list)
    breached: dict[str, set[str]] = defaultdict(set)
    for element, incident, data in q.audit_of_kind(conn, w, "sla_breached"):
        data = data or {}
        timer = str(element or data.get("element_id"))
        late[timer].append(data.get("late_by"))
        breached[timer].add(incident)
    reached = {t["element_id"]: t["incidents"] for t in tasks}
    items = []
    for timer in dict.fromkeys([*info.timers, *sorted(late)]):
        model = info.timers.get(timer, {})
        armed = reached.get(model.get("task"), 0) if model.get("task") else None
        items.append({"element_id": timer, "name": model.get("name"), "task": model.get("task"),
                      "lane": model.get("lane"), "breaches": len(late[timer]),
                      "incidents_breached": len(breached[timer]), "armed": armed,
                      "breach_share": share(len(breached[timer]), armed) if armed else None,
                      "late_by": summary(late[timer])})
    return items


def _gateways(conn: Connection, w: Window, info: ModelInfo) -> list[dict[str, Any]]:
    decided, flows = q.gateway_decisions(conn, w)
    reached = {element: int(count) for element, count in decided}
    taken = {(element, flow): int(count) for element, flow, count in flows}
    return [{"element_id": gateway, "reached": reached.get(gateway, 0),
             "flows": [{**flow, "taken": taken.get((gateway, flow["flow"]), 0)} for flow in flows_]}
            for gateway, flows_ in info.gateways.items()]


def _lanes(conn: Connection, w: Window) -> list[dict[str, Any]]:
    ages: dict[str | None, list[float]] = defaultdict(list)
    for lane, ready_since in q.open_task_starts(conn, w):
        ages[lane].append((w.until - ready_since).total_seconds())
    items = []
    for lane, arrived, drained, at_start, at_end in q.lane_flow(conn, w):
        age = summary(ages[lane])
        items.append({"lane": lane, "open": int(at_end or 0), "open_at_start": int(at_start or 0),
                      "arrived": int(arrived or 0), "drained": int(drained or 0),
                      "oldest_age": age["max"], "median_age": age["p50"]})
    return sorted(items, key=lambda item: str(item["lane"]))


def compute(conn: Connection, window: Window, info: ModelInfo | None = None) -> dict[str, Any]:
    """Every figure of the window as plain JSON-ready data (seconds for durations, 0..1 for shares)."""
    info = info or ModelInfo()
    totals, by_version = _incidents(conn, window)
    source = q.cycle_times(conn, window)
    cycles = {key[0]: stats[0] for key, (stats, _extra) in grouped(conn, source, 1, 1).items()}
    every = select(list(source.subquery().c)[1])
    overall = grouped(conn, every, 0, 1).get((), ([summary([])], []))[0][0]
    cycle_total = (overall["mean"] or 0.0) * overall["count"]
    tasks, rework = _tasks(conn, window, info, cycle_total)
    return {
        **window.describe(), "incidents": totals, "cycle_time": overall,
        "versions": [{"version": v, "incidents": by_version.get(v) or {**_counts(), "completed_share": None},
                      "cycle_time": cycles.get(v) or summary([])}
                     for v in sorted(set(by_version) | set(cycles))],
        "tasks": tasks, "rework": rework, "checks": _checks(conn, window, info),
        "sla": _sla(conn, window, info, tasks), "gateways": _gateways(conn, window, info),
        "lanes": _lanes(conn, window),
    }
