"""Agreed criteria: which metric takes which statistic, target and parameter."""
from __future__ import annotations

from typing import Any

import pytest

from engine.errors import Invalid
from engine.governance.criteria import catalogue, describe, validate


def fields_of(criterion: dict[str, Any]) -> set[str]:
    with pytest.raises(Invalid) as caught:
        validate(criterion)
    return {p.field for p in caught.value.problems if p.field}


def test_the_examples_of_the_issue_are_valid() -> None:
    validate({"metric": "time_to_task", "statistic": "p95", "comparator": "at_most", "target": "PT15M",
              "params": {"task": "Task_Resolve"}, "filter": {"priority": "P1"}})
    validate({"metric": "check_first_time_pass_rate", "statistic": "share", "comparator": "at_least",
              "target": 0.9, "params": {"check": "triage_complete"}})
    validate({"metric": "sla_breach_share", "statistic": "share", "comparator": "at_most", "target": 0.05})


def test_wrong_combinations_name_each_field() -> None:
    assert fields_of({"metric": "time_to_task", "statistic": "share", "comparator": "below", "target": 3}) == {
        "statistic", "comparator", "target", "params.task"}
    assert fields_of({"metric": "sla_breach_share", "statistic": "share", "comparator": "at_most",
                      "target": 1.5, "params": {"task": "x"}}) == {"target", "params.task"}
    assert fields_of({"metric": "cycle_time", "statistic": "p95", "comparator": "at_most",
                      "target": "15 minutes", "filter": {"bad key": [1]}}) == {"target", "filter.bad key"}
    assert fields_of({"metric": "nope"}) == {"metric"}


def test_describe_reads_as_a_sentence() -> None:
    text = describe({"metric": "time_to_task", "statistic": "p95", "comparator": "at_most", "target": "PT15M",
                     "params": {"task": "Task_Resolve"}, "filter": {"priority": "P1"}})
    assert text == ("95th percentile of time from incident start to a task completed [task Task_Resolve] "
                    "at most PT15M (priority=P1)")


def test_catalogue_lists_every_metric() -> None:
    names = [m["name"] for m in catalogue()]
    assert {"cycle_time", "time_to_task", "check_first_time_pass_rate", "sla_breach_share",
            "incidents_completed_share"} <= set(names)
