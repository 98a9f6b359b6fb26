"""camunda:collection as any expression of the safe evaluator, not only a variable name."""
from __future__ import annotations

import pytest

from engine.bpmn.parser import load_procedure
from engine.errors import ProcedureInvalid
from engine.runtime.procedure import RuntimeProcedure, prepare_spec
from engine.runtime.runner import IncidentFailed, Runner
from engine.runtime.script_engine import SafeScriptEngine

MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
             targetNamespace="x">
  <process id="mi" isExecutable="true">
    <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="Task_Call"/>
    <userTask id="Task_Call">
      <multiInstanceLoopCharacteristics camunda:collection="COLLECTION" camunda:elementVariable="line"/>
    </userTask>
    <sequenceFlow id="f2" sourceRef="Task_Call" targetRef="Task_After"/>
    <userTask id="Task_After"/><sequenceFlow id="f3" sourceRef="Task_After" targetRef="e"/><endEvent id="e"/>
  </process>
</definitions>"""


def runner_for(collection: str) -> Runner:
    definition = load_procedure(MODEL.replace("COLLECTION", collection).encode())
    prepare_spec(definition.spec, definition.subprocess_specs)
    return Runner(RuntimeProcedure("id", definition.key, 1, "sha", definition, definition.spec,
                                   definition.subprocess_specs), SafeScriptEngine())


@pytest.mark.parametrize(("collection", "expected"), [
    ("${order['lines']}", ["a", "b"]),
    ("#{order['lines'] + extra}", ["a", "b", "c"]),
    ("${[region, 'central']}", ["north", "central"]),
    ("${order['lines'][1:]}", ["b"]),
    ("lines", ["x"]),  # a plain name still works
])
def test_a_collection_expression_opens_one_instance_per_item(collection: str, expected: list[str]) -> None:
    runner = runner_for(collection)
    outcome = runner.start({"order": {"lines": ["a", "b"]}, "extra": ["c"], "region": "north", "lines": ["x"]})
    assert [t.data["line"] for t in outcome.open_tasks] == expected
    while outcome.open_tasks and outcome.open_tasks[0].element_id == "Task_Call":
        outcome = runner.complete(outcome.state, outcome.open_tasks[0].id, {"done": True})
    [after] = outcome.open_tasks
    assert after.element_id == "Task_After" and after.data["done"] is True
    assert not any(name.startswith("_collection_") for name in after.data)  # the worked-out list stays inside


def test_a_collection_expression_that_gives_no_list_fails_the_incident_by_name() -> None:
    with pytest.raises(IncidentFailed, match=r"camunda:collection of Task_Call \(\$\{region \+ 's'\}\) gave str, not a list"):
        runner_for("${region + 's'}").start({"region": "north"})


@pytest.mark.parametrize("collection", ["${order.getLines()}", "${1 +}"])
def test_a_collection_expression_the_evaluator_refuses_is_refused_at_upload(collection: str) -> None:
    with pytest.raises(ProcedureInvalid) as caught:
        load_procedure(MODEL.replace("COLLECTION", collection).encode())
    assert any(p.rule == "expression" and "camunda:collection of Task_Call" in p.message for p in caught.value.problems)
