"""The debrief record of a major incident, assembled from its audit trail alone (pure, deterministic).

An incident is major when its procedure declares `major=true` or its priority is P1. The record holds
the timeline of every transition with its actor, the checks that failed and were overridden, the SLA
breaches, who took part, how long each task (phase) and each lane held the incident, and what the
debrief task recorded: lessons learned and agreed actions with owners and due dates.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

_ENDED = ("completed", "cancelled", "error")


def is_major(properties: Mapping[str, Any] | None, data: Mapping[str, Any] | None) -> tuple[bool, str | None]:
    """(major?, why) from the procedure's properties and the incident's data."""
    if str((properties or {}).get("major", "")).strip().lower() == "true":
        return True, "the procedure is marked major"
    if str((data or {}).get("priority", "")).strip().upper() == "P1":
        return True, "the incident's priority is P1"
    return False, None


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return round((end - start).total_seconds(), 3) if start and end else None


def _actions(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Agreed actions: a list of {action, owner, due}, or lines of text sharing `action_owner`/`actions_due`."""
    raw = data.get("actions")
    if isinstance(raw, list):
        return [{"action": str(a.get("action") or a.get("description") or ""), "owner": a.get("owner"),
                 "due": a.get("due")} if isinstance(a, Mapping) else
                {"action": str(a), "owner": data.get("action_owner"), "due": data.get("actions_due")}
                for a in raw]
    lines = [line.strip().lstrip("-*•").strip() for line in str(raw or "").splitlines()]
    return [{"action": line, "owner": data.get("action_owner"), "due": data.get("actions_due")}
            for line in lines if line]


def _phases(rows: list[Mapping[str, Any]], lanes: Mapping[str, str | None]) -> list[dict[str, Any]]:
    ready: dict[str, Mapping[str, Any]] = {}
    phases = []
    for row in rows:
        if row["kind"] != "task" or row.get("element_type") != "userTask":
            continue
        if row.get("to_state") == "ready":
            ready[row["task_id"]] = row
        elif row.get("to_state") in _ENDED and row["task_id"] in ready:
            began = ready.pop(row["task_id"])
            phases.append({"element_id": row["element_id"], "name": row.get("element_name"),
                           "lane": lanes.get(row["element_id"]), "ready_at": began["at"], "ended_at": row["at"],
                           "outcome": row["to_state"], "actor": row.get("actor"),
                           "duration_s": _seconds(began["at"], row["at"])})
    return phases


def _lanes(phases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    totals: dict[str, float] = {}
    for phase in phases:
        key = phase["lane"] or "(no lane)"
        totals[key] = round(totals.get(key, 0.0) + (phase["duration_s"] or 0.0), 3)
    return [{"lane": lane, "duration_s": total} for lane, total in totals.items()]


def _participants(rows: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    people: dict[str, dict[str, Any]] = {}
    for row in rows:
        actor = row.get("actor")
        if not actor:
            continue
        who = people.setdefault(actor, {"actor": actor, "transitions": 0, "tasks_completed": [],
                                        "first_at": row["at"], "last_at": row["at"]})
        who["transitions"] += 1
        who["last_at"] = row["at"]
        if row["kind"] == "task" and row.get("element_type") == "userTask" and row.get("to_state") == "completed":
            who["tasks_completed"].append(row["element_id"])
    return list(people.values())


def _debrief_form(rows: list[Mapping[str, Any]]) -> tuple[dict[str, Any], Mapping[str, Any] | None]:
    """The last completed task submission that recorded lessons learned (the debrief task)."""
    found = [r for r in rows if r["kind"] == "task" and r.get("to_state") == "completed"
             and isinstance(r.get("data"), Mapping) and "lessons_learned" in r["data"]]
    if not found:
        return {"lessons_learned": None, "actions": [], "recorded_at": None, "recorded_by": None,
                "element_id": None}, None
    row = found[-1]
    return {"lessons_learned": row["data"].get("lessons_learned"), "actions": _actions(row["data"]),
            "recorded_at": row["at"], "recorded_by": row.get("actor"), "element_id": row["element_id"]}, row


def assemble(incident: Mapping[str, Any], audit: Iterable[Mapping[str, Any]],
             properties: Mapping[str, Any] | None = None, lanes: Mapping[str, str | None] | None = None
             ) -> dict[str, Any]:
    """The debrief record of `incident` from its audit rows (oldest first) and its procedure's properties."""
    rows = sorted(audit, key=lambda r: (r["at"], r.get("id") or 0))
    data = incident.get("data") or {}
    major, why = is_major(properties, data)
    phases = _phases(rows, lanes or {})
    debrief, _row = _debrief_form(rows)
    checks = [r for r in rows if r["kind"] in ("check_failed", "check_overridden")]
    return {
        "incident": {"id": incident["id"], "reference": incident.get("reference"),
                     "procedure": incident.get("procedure_key"), "version": incident.get("procedure_version"),
                     "status": incident.get("status"), "priority": data.get("priority"),
                     "summary": data.get("summary"), "started_at": incident.get("created_at"),
                     "ended_at": incident.get("ended_at"),
                     "duration_s": _seconds(incident.get("created_at"), incident.get("ended_at"))},
        "major": major, "major_because": why,
        "timeline": [{k: r.get(k) for k in ("at", "kind", "element_id", "element_name", "element_type",
                                            "from_state", "to_state", "actor", "data")} for r in rows],
        "checks_failed": [{"at": r["at"], "check": (r.get("data") or {}).get("check"), "gateway_id": r["element_id"],
                           "attempt": (r.get("data") or {}).get("attempt"),
                           "values": (r.get("data") or {}).get("values"), "actor": r.get("actor")}
                          for r in checks if r["kind"] == "check_failed"],
        "overrides": [{"at": r["at"], "check": (r.get("data") or {}).get("check"), "gateway_id": r["element_id"],
                       "attempt": (r.get("data") or {}).get("attempt"), "actor": r.get("actor"),
                       "reason": (r.get("data") or {}).get("reason")}
                      for r in checks if r["kind"] == "check_overridden"],
        "sla_breaches": [{"at": r["at"], "element_id": r.get("element_id") or (r.get("data") or {}).get("element_id"),
                          "name": r.get("element_name"), **{k: (r.get("data") or {}).get(k)
                                                            for k in ("task", "due_at", "fired_at", "late_by")}}
                         for r in rows if r["kind"] == "sla_breached"],
        "participants": _participants(rows), "phases": phases, "lanes": _lanes(phases), "debrief": debrief,
    }
