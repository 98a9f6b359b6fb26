"""A procedure's metrics over a time window, from the audit trail and the tasks, incidents and check tables.

Window rules (half-open [since, until)): lifecycle counts are events in the window; cycle time is of the
incidents completed in it; wait and work are of the tasks completed in it; arrivals, rework and time to
reach a task are of the tasks that became ready in it; `open` is at the end of the window.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection

from . import metrics_sql as q
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
    waits: dict[str, list[float]] = defaultdict(list)
    works: dict[str, list[float | None]] = defaultdict(list)
    for element, wait, work in q.task_durations(conn, w):
        waits[element].append(float(wait))
        works[element].append(None if work is None else float(work))
    reached: dict[str, list[float]] = defaultdict(list)
    loops: dict[str, int] = defaultdict(int)
    per_incident: dict[str, int] = defaultdict(int)
    instances: dict[str, int] = defaultdict(int)
    reworked: dict[str, int] = defaultdict(int)
    for element, incident, count, after in q.task_arrivals(conn, w):
        reached[element].append(float(after))
        instances[element] += int(count)
        loops[element] += int(count) - 1
        reworked[element] += 1 if count > 1 else 0
        per_incident[incident] += int(count) - 1
    in_completed = {element: float(total or 0) for element, total in q.waits_of_completed_incidents(conn, w)}
    elements = list(dict.fromkeys([*info.tasks, *sorted(set(waits) | set(reached))]))
    items = []
    for element in elements:
        model = info.tasks.get(element, {})
        items.append({
            "element_id": element, "name": model.get("name"), "lane": model.get("lane"),
            "incidents": len(reached[element]), "instances": instances[element],
            "completed": len(waits[element]), "wait": summary(waits[element]), "work": summary(works[element]),
            "reached_after": summary(reached[element]),
            "wait_in_completed_incidents": round(in_completed.get(element, 0.0), 3),
            "wait_share": round(in_completed[element] / cycle_total, 4)
            if cycle_total and element in in_completed else None,
            "rework": {"incidents": reworked[element], "loops": loops[element],
                       "share": share(reworked[element], len(reached[element]))},
        })
    counted = list(per_incident.values())
    rework = {"incidents": len(counted), "loops": sum(counted),
              "incidents_with_rework": sum(1 for c in counted if c > 0),
              "per_incident": round(sum(counted) / len(counted), 4) if counted else None,
              "max": max(counted) if counted else None}
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
    reached: dict[str, int] = defaultdict(int)
    taken: dict[tuple[str, str], int] = defaultdict(int)
    for element, _incident, data in q.audit_of_kind(conn, w, "gateway"):
        reached[element] += 1
        for flow in (data or {}).get("taken", []):
            taken[(element, flow.get("flow"))] += 1
    return [{"element_id": gateway, "reached": reached[gateway],
             "flows": [{**flow, "taken": taken[(gateway, flow["flow"])]} for flow in flows]}
            for gateway, flows in info.gateways.items()]


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
    cycles: dict[int, list[float]] = defaultdict(list)
    for version, secs in q.cycle_times(conn, window):
        cycles[version].append(float(secs))
    every_cycle = [s for values in cycles.values() for s in values]
    tasks, rework = _tasks(conn, window, info, sum(every_cycle))
    return {
        **window.describe(), "incidents": totals, "cycle_time": summary(every_cycle),
        "versions": [{"version": v, "incidents": by_version.get(v) or {**_counts(), "completed_share": None},
                      "cycle_time": summary(cycles[v])}
                     for v in sorted(set(by_version) | set(cycles))],
        "tasks": tasks, "rework": rework, "checks": _checks(conn, window, info),
        "sla": _sla(conn, window, info, tasks), "gateways": _gateways(conn, window, info),
        "lanes": _lanes(conn, window),
    }
