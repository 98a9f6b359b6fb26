"""Multi-instance activities as Camunda runs them: collections, cardinality, counters, completion conditions."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.bpmn.parser import load_procedure
from engine.runtime.procedure import RuntimeProcedure, prepare_spec
from engine.runtime.runner import IncidentFailed, Outcome, Runner
from engine.runtime.script_engine import SafeScriptEngine

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn" / "camunda" / "multi_instance.bpmn"


def runner_for(data: bytes) -> Runner:
    definition = load_procedure(data)
    prepare_spec(definition.spec, definition.subprocess_specs)
    return Runner(RuntimeProcedure("id", definition.key, 1, "sha", definition, definition.spec,
                                   definition.subprocess_specs), SafeScriptEngine())


def complete(runner: Runner, outcome: Outcome, index: int, values: dict[str, Any]) -> Outcome:
    return runner.complete(outcome.state, outcome.open_tasks[index].id, values)


def test_a_parallel_collection_opens_one_task_per_item_and_stops_at_its_completion_condition() -> None:
    runner = runner_for(FIXTURE.read_bytes())
    outcome = runner.start({"reviewers": ["ann", "bob", "cy"], "signatures": 2})
    assert [(t.data["reviewer"], t.data["loopCounter"]) for t in outcome.open_tasks] == [
        ("ann", 0), ("bob", 1), ("cy", 2)]
    assert len({t.id for t in outcome.open_tasks}) == 3  # one task per instance, each its own
    outcome = complete(runner, outcome, 1, {"verdict": "ok"})
    assert [t.data["reviewer"] for t in outcome.open_tasks] == ["ann", "cy"]
    outcome = complete(runner, outcome, 0, {"verdict": "fine"})  # nrOfCompletedInstances >= 2: cy is cancelled
    [sign] = outcome.open_tasks
    assert sign.element_id == "Task_Sign" and sign.data["loopCounter"] == 0
    assert sign.data["verdict"] == "fine"  # an instance's form data goes up, as Camunda propagates it
    assert "reviewer" not in sign.data  # the element variable stays in its instance
    assert sign.data["reviewers"] == ["ann", "bob", "cy"]
    assert any(t.element_id == "Task_Review" and t.to_state == "cancelled" for t in outcome.transitions)


def test_a_sequential_cardinality_opens_its_instances_one_after_another() -> None:
    runner = runner_for(FIXTURE.read_bytes())
    outcome = runner.start({"reviewers": ["ann"], "signatures": 2})
    outcome = complete(runner, outcome, 0, {})
    assert [t.data["loopCounter"] for t in outcome.open_tasks] == [0]
    outcome = complete(runner, outcome, 0, {"signed": 1})
    assert [t.data["loopCounter"] for t in outcome.open_tasks] == [1]
    outcome = complete(runner, outcome, 0, {"signed": 2})
    assert outcome.status == "completed"


@pytest.mark.parametrize(("data", "message"), [
    ({"reviewers": "ann", "signatures": 1}, "camunda:collection of Task_Review names 'reviewers', which is not a list"),
    ({"signatures": 1}, "names 'reviewers', which is missing"),
])
def test_a_collection_that_is_not_a_list_fails_the_incident_by_name(data: dict[str, Any], message: str) -> None:
    with pytest.raises(IncidentFailed, match=message):
        runner_for(FIXTURE.read_bytes()).start(data)


def test_a_cardinality_that_is_not_a_number_fails_and_leaves_the_shared_spec_alone() -> None:
    runner = runner_for(FIXTURE.read_bytes())
    outcome = runner.start({"reviewers": ["ann"], "signatures": ["x", "y"]})
    with pytest.raises(IncidentFailed, match="loopCardinality of Task_Sign gave \\['x', 'y'\\], not a whole number"):
        complete(runner, outcome, 0, {})
    again = complete(runner, runner.start({"reviewers": ["ann"], "signatures": 1}), 0, {})
    assert [t.element_id for t in again.open_tasks] == ["Task_Sign"]  # the next incident runs as drawn


def test_collection_as_an_expression_and_templates_in_the_assignee_are_read() -> None:
    data = FIXTURE.read_bytes().replace(b'camunda:collection="reviewers"', b'camunda:collection="${reviewers}"')
    data = data.replace(b'camunda:assignee="${reviewer}"', b'camunda:assignee="desk_${loopCounter}"')
    definition = load_procedure(data)
    assert definition.user_task("Task_Review") is not None
    outcome = runner_for(data).start({"reviewers": ["ann", "bob"], "signatures": 1})
    assert [t.data["reviewer"] for t in outcome.open_tasks] == ["ann", "bob"]
