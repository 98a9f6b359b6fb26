"""The approval rules: each refusal reason on its own, all of them together, and a version that qualifies."""
from __future__ import annotations

from typing import Any

from engine.governance.approval import qualifying_tests, unmet_conditions

SHA = "a" * 64
VERSION = {"sha256": SHA, "peak_incidents_per_hour": 120, "peak_agents": 10}
PASSING = {"status": "passed", "sha256": SHA, "incidents_per_hour": 120, "agents": 10}
SUITE = {"id": "suite-1", "sha256": "c" * 64}
RUN = {"id": "run-1", "sha256": SHA, "suite_id": "suite-1", "status": "passed", "passed": 3, "failed": 0,
       "totals": {"flows": 12, "flows_covered": 12, "uncovered_flows": []}}
COVERED = {"suite": SUITE, "run": RUN}


def codes(version: dict[str, Any] = VERSION, comments_open: int = 0, objectives: Any = ("obj",),
          tests: Any = (PASSING,), lint: Any = (), scenarios: Any = COVERED) -> list[str]:
    return [u.code for u in unmet_conditions(version, comments_open, list(objectives), list(tests), list(lint),
                                             scenarios=scenarios)]


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
    unmet = unmet_conditions(VERSION, 1, [], [], [{"severity": "error"}], scenarios={"suite": None, "run": None})
    assert [u.code for u in unmet] == ["lint_errors", "comments_open", "no_objective", "no_passing_fitness_test",
                                       "no_scenario_tests"]
    assert all(u.message for u in unmet)
    assert unmet[0].as_dict() == {"code": "lint_errors", "message": unmet[0].message}


def test_no_scenario_suite_refuses() -> None:
    assert codes(scenarios={"suite": None, "run": None}) == ["no_scenario_tests"]


def test_a_suite_never_run_or_run_on_other_bytes_or_an_older_suite_refuses() -> None:
    assert codes(scenarios={"suite": SUITE, "run": None}) == ["scenario_tests_not_run"]
    assert codes(scenarios={"suite": SUITE, "run": {**RUN, "sha256": "b" * 64}}) == ["scenario_tests_not_run"]
    assert codes(scenarios={"suite": SUITE, "run": {**RUN, "suite_id": "suite-0"}}) == ["scenario_tests_not_run"]


def test_failing_scenarios_and_uncovered_flows_refuse_together() -> None:
    run = {**RUN, "status": "failed", "passed": 2, "failed": 1,
           "totals": {"uncovered_flows": [f"Flow_{i}" for i in range(12)]}}
    unmet = unmet_conditions(VERSION, 0, ["obj"], [PASSING], [], scenarios={"suite": SUITE, "run": run})
    assert [u.code for u in unmet] == ["scenario_tests_failed", "flows_not_covered"]
    assert "1 of 3 scenario(s) fail" in unmet[0].message
    assert "12 sequence flow(s): Flow_0, Flow_1" in unmet[1].message and "and 2 more" in unmet[1].message
