"""Adherence figures: how each check fared across incidents, from its results alone (pure, no I/O).

For one incident and one check, the results in order give exactly one category:
- still_failing: the latest result is a failure;
- overridden: otherwise, a supervisor overrode a failure at some point;
- passed_first_time: otherwise, the check never failed;
- failed_then_passed: otherwise (it failed, and a later evaluation passed on the data).
So reached = passed_first_time + failed_then_passed + overridden + still_failing.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

CATEGORIES = ("passed_first_time", "failed_then_passed", "overridden", "still_failing")


@dataclass
class Figures:
    """Counts of incidents for one check of one procedure version."""

    reached: int = 0
    passed_first_time: int = 0
    failed_then_passed: int = 0
    overridden: int = 0
    still_failing: int = 0

    def add(self, category: str) -> None:
        self.reached += 1
        setattr(self, category, getattr(self, category) + 1)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def category(outcomes: Sequence[str]) -> str:
    """The category of one incident's results for one check (outcomes oldest first; never empty)."""
    if outcomes[-1] == "failed":
        return "still_failing"
    if "overridden" in outcomes:
        return "overridden"
    if "failed" not in outcomes:
        return "passed_first_time"
    return "failed_then_passed"


def figures(results: Iterable[Mapping[str, Any]], since: datetime | None = None
            ) -> dict[int, dict[str, Figures]]:
    """version -> check -> Figures, from result rows (incident_id, procedure_version, check_name, outcome,
    at; oldest first). With `since`, an incident counts only if it first reached the check at or after it."""
    grouped: dict[tuple[int, str, str], list[Mapping[str, Any]]] = {}
    for row in results:
        grouped.setdefault((row["procedure_version"], row["check_name"], row["incident_id"]), []).append(row)
    out: dict[int, dict[str, Figures]] = {}
    for (version, check, _incident), rows in grouped.items():
        if since is not None and rows[0]["at"] < since:
            continue
        out.setdefault(version, {}).setdefault(check, Figures()).add(category([r["outcome"] for r in rows]))
    return out


def incident_status(results: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One entry per check an incident reached: outcome, attempts, overrides (rows oldest first)."""
    by_check: dict[str, list[Mapping[str, Any]]] = {}
    for row in results:
        by_check.setdefault(row["check_name"], []).append(row)
    status = []
    for check, rows in by_check.items():
        outcomes = [r["outcome"] for r in rows]
        status.append({
            "check": check, "gateway_id": rows[-1]["gateway_id"], "outcome": outcomes[-1],
            "attempts": sum(1 for o in outcomes if o != "overridden"),
            "passed_first_time": outcomes[0] == "passed",
            "category": category(outcomes), "first_at": rows[0]["at"], "last_at": rows[-1]["at"],
            "values": rows[-1].get("check_values"),
            "overrides": [{"actor": r["actor"], "reason": r["reason"], "at": r["at"], "attempt": r["attempt"]}
                          for r in rows if r["outcome"] == "overridden"],
        })
    return status
