"""Adherence categories and figures from check results, without a database."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.checks.adherence import category, figures, incident_status

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("outcomes", "expected"), [
    (["passed"], "passed_first_time"),
    (["failed", "passed"], "failed_then_passed"),
    (["failed", "failed", "passed"], "failed_then_passed"),
    (["failed"], "still_failing"),
    (["failed", "overridden"], "overridden"),
    (["failed", "overridden", "failed"], "still_failing"),
    (["passed", "passed"], "passed_first_time"),
])
def test_category(outcomes: list[str], expected: str) -> None:
    assert category(outcomes) == expected


def _row(incident: str, outcome: str, minutes: int, version: int = 1, check: str = "c") -> dict[str, object]:
    return {"incident_id": incident, "procedure_version": version, "check_name": check, "outcome": outcome,
            "at": T0 + timedelta(minutes=minutes), "gateway_id": "G", "actor": None, "reason": None,
            "attempt": 1, "check_values": {}}


def test_figures_per_version_and_check_add_up() -> None:
    rows = [_row("i1", "passed", 0), _row("i2", "failed", 1), _row("i2", "passed", 2),
            _row("i3", "failed", 3), _row("i4", "failed", 4), _row("i4", "overridden", 5),
            _row("i5", "passed", 6, version=2), _row("i5", "failed", 7, version=2, check="d")]
    got = figures(rows)
    assert got[1]["c"].as_dict() == {"reached": 4, "passed_first_time": 1, "failed_then_passed": 1,
                                     "overridden": 1, "still_failing": 1}
    assert got[2]["c"].passed_first_time == 1 and got[2]["d"].still_failing == 1


def test_since_counts_incidents_that_first_reached_the_check_since_then() -> None:
    rows = [_row("old", "failed", 0), _row("old", "passed", 60), _row("new", "passed", 61)]
    got = figures(rows, since=T0 + timedelta(minutes=30))
    assert got[1]["c"].as_dict() == {"reached": 1, "passed_first_time": 1, "failed_then_passed": 0,
                                     "overridden": 0, "still_failing": 0}


def test_incident_status() -> None:
    rows = [_row("i", "failed", 0), _row("i", "failed", 1), _row("i", "overridden", 2)]
    rows[2]["actor"], rows[2]["reason"] = "sup-1", "called the customer"
    [status] = incident_status(rows)
    assert status["outcome"] == "overridden" and status["attempts"] == 2
    assert status["passed_first_time"] is False and status["category"] == "overridden"
    assert status["overrides"][0]["actor"] == "sup-1"
    assert status["last_at"] == T0 + timedelta(minutes=2)
