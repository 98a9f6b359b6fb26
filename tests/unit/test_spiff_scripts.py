"""spiff-arena files run unchanged: pre/post scripts and script tasks go through the safe evaluator."""
from __future__ import annotations

from pathlib import Path

import pytest
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.parser import load_procedure
from engine.runtime.procedure import RuntimeProcedure, prepare_spec
from engine.runtime.runner import IncidentFailed, Runner
from engine.runtime.script_engine import SafeScriptEngine

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn" / "spiff_arena.bpmn"


def _runner(xml: bytes) -> Runner:
    definition = load_procedure(xml)
    prepare_spec(definition.spec, definition.subprocess_specs)
    runtime = RuntimeProcedure("id", definition.key, 1, "sha", definition, definition.spec,
                               definition.subprocess_specs)
    return Runner(runtime, SafeScriptEngine())


def test_pre_and_post_scripts_run_around_a_user_task() -> None:
    runner = _runner(FIXTURE.read_bytes())
    outcome = runner.start({"channel": "phone"})
    [record] = outcome.open_tasks
    assert record.element_id == "Task_Record"
    assert record.data["attempts"] == 0  # preScript ran when the task became ready

    outcome = runner.complete(outcome.state, record.id, {"logged": True})
    # The finished tasks themselves are pruned from the saved state (engine.runtime.prune); what they did
    # is in the data the next task, the started service task, inherited from them.
    [ack] = outcome.services
    assert ack.element_id == "Service_Ack"
    assert ack.data["attempts"] == 1  # postScript ran on completion
    assert ack.data["deadline_days"] == 3 and ack.data["escalate"] is True  # the script task ran
    workflow = runner.load(outcome.state)
    assert not [t for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id == "Task_Record"]


def test_a_post_script_failure_puts_the_incident_in_error() -> None:
    xml = FIXTURE.read_bytes().replace(b"attempts = attempts + 1", b"attempts = attempts + missing_name")
    runner = _runner(xml)
    outcome = runner.start({"channel": "email"})
    with pytest.raises(IncidentFailed, match="missing_name"):
        runner.complete(outcome.state, outcome.open_tasks[0].id, {"logged": True})
