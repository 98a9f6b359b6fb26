"""What the workflow writes to the process scope reaches the case file (Outcome.written); locals never do."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.bpmn.parser import load_procedure
from engine.runtime.budget import Budgets
from engine.runtime.procedure import RuntimeProcedure, prepare_spec
from engine.runtime.runner import IncidentFailed, Runner
from engine.runtime.script_engine import SafeScriptEngine
from tests.unit.test_io_mapping import complete
from tests.unit.test_multi_instance import FIXTURE as MULTI_INSTANCE

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn" / "camunda" / "case_file.bpmn"
START = {"case_id": "C-7", "amount": 5, "surname": "Roe", "customer_email": "c@example.org"}


def runner_for(data: bytes, budgets: Budgets | None = None) -> Runner:
    definition = load_procedure(data)
    prepare_spec(definition.spec, definition.subprocess_specs)
    return Runner(RuntimeProcedure("id", definition.key, 1, "sha", definition, definition.spec,
                                   definition.subprocess_specs), SafeScriptEngine(), budgets=budgets)


def test_outputs_script_results_and_a_subprocess_s_writes_are_written_and_locals_are_not() -> None:
    runner = runner_for(FIXTURE.read_bytes())
    outcome = runner.start(START)
    [prepare] = outcome.open_tasks
    assert prepare.data["local_note"] == "seen only here"  # the activity sees its input ...
    assert "local_note" not in outcome.written  # ... the case file does not
    outcome = complete(runner, outcome, "Task_Prepare", {})
    assert outcome.written == {
        "prepared_by": "desk-C-7",  # camunda:outputParameter of the user task
        "score": 10,  # a script task's result
        "customer_name": "[personal]",  # a declared personal value the script made: the marker, as if submitted
        "attempts": 1, "contacted_by": "phone",  # written inside the subprocess / its output, when it ends
    }
    assert "channel" not in outcome.written and "local_note" not in outcome.written  # inputParameter locals
    assert outcome.personal == {"customer_name": "Jane Roe"}  # carried apart, to the personal-data store
    assert "Jane" not in outcome.state  # and gone from the workflow, as a submitted one would be
    [check] = outcome.open_tasks
    assert check.data["customer_name"] == "[personal]" and check.data["score"] == 10


def test_a_multi_instance_element_variable_stays_the_instance_s_own() -> None:
    runner = runner_for(MULTI_INSTANCE.read_bytes())
    outcome = runner.start({"reviewers": ["ann", "bob", "cy"], "signatures": 2})
    outcome = runner.complete(outcome.state, outcome.open_tasks[1].id, {"verdict": "ok"})
    outcome = runner.complete(outcome.state, outcome.open_tasks[0].id, {"verdict": "fine"})
    assert outcome.written == {"verdict": "fine"}
    assert "reviewer" not in outcome.written and not any(k.startswith("_") for k in outcome.written)


def test_a_value_over_the_task_data_limit_fails_the_incident_by_name() -> None:
    big = FIXTURE.read_bytes().replace(b"score = amount * 2", b"score = 'x' * 5000")
    runner = runner_for(big, Budgets(task_data_bytes=4096, state_bytes=10 * 1024 * 1024))
    outcome = runner.start(START)
    with pytest.raises(IncidentFailed, match="MAX_TASK_DATA_BYTES"):
        complete(runner, outcome, "Task_Prepare", {})
