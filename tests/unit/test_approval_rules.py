"""The approval rules: each refusal reason on its own, all of them together, and a version that qualifies."""
from __future__ import annotations

from typing import Any

from engine.governance.approval import qualifying_tests, unmet_conditions

SHA = "a" * 64
VERSION = {"sha256": SHA, "peak_incidents_per_hour": 120, "peak_agents": 10}
PASSING = {"status": "passed", "sha256": SHA, "incidents_per_hour": 120, "agents": 10}


def codes(version: dict[str, Any] = VERSION, comments_open: int = 0, objectives: Any = ("obj",),
          tests: Any = (PASSING,), lint: Any = ()) -> list[str]:
    return [u.code for u in unmet_conditions(version, comments_open, list(objectives), list(tests), list(lint))]


def test_a_version_meeting_every_condition_may_be_approved() -> None:
    assert codes() == []


def test_lint_errors_refuse_but_warnings_do_not() -> None:
    assert codes(lint=[{"severity": "warning", "message": "w"}]) == []
    assert codes(lint=[{"severity": "error", "message": "e"}]) == ["lint_errors"]


def test_an_open_comment_refuses() -> None:
    assert codes(comments_open=2) == ["comments_open"]


def test_no_objective_refuses() -> None:
    assert codes(objectives=()) == ["no_objective"]


def test_no_fitness_test_refuses() -> None:
    assert codes(tests=()) == ["no_passing_fitness_test"]


def test_a_failed_fitness_test_does_not_count() -> None:
    assert codes(tests=[{**PASSING, "status": "failed"}]) == ["no_passing_fitness_test"]


def test_a_passing_test_of_other_bytes_does_not_count() -> None:
    assert codes(tests=[{**PASSING, "sha256": "b" * 64}]) == ["no_passing_fitness_test"]


def test_a_passing_test_below_the_declared_peak_does_not_count() -> None:
    assert codes(tests=[{**PASSING, "incidents_per_hour": 119}]) == ["fitness_below_peak"]
    assert codes(tests=[{**PASSING, "agents": 9}]) == ["fitness_below_peak"]


def test_a_test_above_the_peak_counts() -> None:
    assert codes(tests=[{**PASSING, "incidents_per_hour": 500, "agents": 20}]) == []


def test_an_undeclared_peak_refuses() -> None:
    assert codes(version={"sha256": SHA}) == ["no_peak_volume"]
    assert qualifying_tests({"sha256": SHA}, [PASSING]) == []


def test_every_unmet_condition_is_listed_with_a_message() -> None:
    unmet = unmet_conditions(VERSION, 1, [], [], [{"severity": "error"}])
    assert [u.code for u in unmet] == ["lint_errors", "comments_open", "no_objective", "no_passing_fitness_test"]
    assert all(u.message for u in unmet)
    assert unmet[0].as_dict() == {"code": "lint_errors", "message": unmet[0].message}
