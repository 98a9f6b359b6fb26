"""Turning a window of the audit trail into simulation inputs: arrivals per hour, durations, choices.

Pure over plain rows (the service reads them): each row is an audit row of the active version's live
incidents, oldest first, with `incident_id`, `kind`, `task_id`, `element_id`, `to_state`, `at` (seconds
from the window's start) and `data`. A user task's work runs from its last claim (`task_claimed`) to its
completion (from ready when it was completed without a claim); another activity's duration from started
to completed; a decision gateway's choices are counted apart for its first pass in an incident and later
passes (a rework loop's second try passes more often than its first).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .distributions import Distribution, empirical

_TIMED = ("serviceTask", "sendTask", "scriptTask", "task", "businessRuleTask", "callActivity")


@dataclass
class History:
    hourly: list[list[dict[str, Any]]]
    durations: dict[str, Distribution] = field(default_factory=dict)
    branches: dict[str, dict[str, float]] = field(default_factory=dict)
    retry_branches: dict[str, dict[str, float]] = field(default_factory=dict)
    samples: dict[str, int] = field(default_factory=dict)  # element -> observations behind its figure

    @property
    def incidents(self) -> int:
        return sum(len(h) for h in self.hourly)


def read_history(rows: Iterable[Mapping[str, Any]], hours: int, node_types: Mapping[str, str]) -> History:
    """History of `hours` hours from audit rows (see the module docstring)."""
    hourly: list[list[dict[str, Any]]] = [[] for _ in range(hours)]
    since: dict[str, float] = {}  # task id -> when its work began (claim, else ready/started)
    work: dict[str, list[float]] = defaultdict(list)
    first: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    later: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    seen: set[tuple[str, str]] = set()
    for row in rows:
        kind, at, element = row["kind"], float(row["at"]), row.get("element_id")
        if kind == "incident_started":
            hour = int(at // 3600)
            if 0 <= hour < hours:
                hourly[hour].append(dict(row.get("data") or {}))
        elif kind == "task_claimed" and row.get("task_id"):
            since[row["task_id"]] = at
        elif kind == "task" and element and row.get("task_id"):
            state, task_id = row.get("to_state"), row["task_id"]
            if state in ("ready", "started"):
                since.setdefault(task_id, at)
            elif state == "completed" and task_id in since:
                kind_of = node_types.get(element)
                if kind_of in ("userTask", "manualTask", *_TIMED):
                    work[element].append(max(0.0, at - since.pop(task_id)))
        elif kind == "gateway" and element:
            key = (row["incident_id"], element)
            target = later if key in seen else first
            seen.add(key)
            for taken in (row.get("data") or {}).get("taken", []):
                if taken.get("flow"):
                    target[element][taken["flow"]] += 1
    durations = {element: d for element, values in work.items() if (d := empirical(values)) is not None}
    return History(hourly, durations, {g: dict(f) for g, f in first.items()},
                   {g: dict(f) for g, f in later.items()},
                   {**{e: len(v) for e, v in work.items()}, **{g: int(sum(f.values())) for g, f in first.items()}})
