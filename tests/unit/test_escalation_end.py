"""An incident that reaches an escalation end event can be saved and goes on (serializer regression)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from engine import clock
from engine.bpmn.parser import load_procedure
from engine.runtime.procedure import RuntimeProcedure, prepare_spec
from engine.runtime.runner import Runner
from engine.runtime.script_engine import SafeScriptEngine

BUNDLED = Path(__file__).resolve().parents[2] / "bpmn"


@pytest.fixture
def now() -> Iterator[clock.FixedClock]:
    fixed = clock.FixedClock()
    token = clock.use(fixed)
    yield fixed
    clock.reset(token)


def test_the_diagnosis_escalation_ends_and_diagnosis_goes_on(now: clock.FixedClock) -> None:
    definition = load_procedure((BUNDLED / "major_incident.bpmn").read_bytes())
    prepare_spec(definition.spec, definition.subprocess_specs)
    runner = Runner(RuntimeProcedure("id", definition.key, 1, "sha", definition, definition.spec,
                                     definition.subprocess_specs), SafeScriptEngine())

    def finish(outcome, element_id, values):  # type: ignore[no-untyped-def]
        [task] = [t for t in outcome.open_tasks if t.element_id == element_id]
        return runner.complete(outcome.state, task.id, values)

    outcome = runner.start({"priority": "P1"})
    outcome = finish(outcome, "Task_LogIncident", {"summary": "s", "caller_id": "c", "identity_verified": True})
    outcome = finish(outcome, "Task_Triage", {"priority": "P1", "priority_reason": "r"})
    now.advance(timedelta(minutes=31))
    outcome = runner.fire_timers(outcome.state)
    outcome = finish(outcome, "Task_EscalateDiagnosis", {"escalated_to": "duty manager"})
    assert any(t.element_id == "EndEvent_Escalated" and t.to_state == "completed" for t in outcome.transitions)
    assert [t.element_id for t in outcome.open_tasks] == ["Task_Diagnose"]  # diagnosis goes on
    reloaded = runner.load(outcome.state)
    assert not reloaded.is_completed()
