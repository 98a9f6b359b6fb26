"""Messages in the runner (no database): each wait catches one delivery, as Camunda 7 correlates them."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.bpmn.parser import load_procedure
from engine.runtime.events import NotWaiting
from engine.runtime.procedure import RuntimeProcedure, prepare_spec
from engine.runtime.runner import Outcome, Runner
from engine.runtime.script_engine import SafeScriptEngine

EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn" / "events"


def runner_for(name: str) -> Runner:
    definition = load_procedure((EVENTS / f"{name}.bpmn").read_bytes())
    prepare_spec(definition.spec, definition.subprocess_specs)
    procedure = RuntimeProcedure("id", definition.key, 1, "sha", definition, definition.spec,
                                 definition.subprocess_specs)
    return Runner(procedure, SafeScriptEngine())


def waits(outcome: Outcome) -> list[tuple[str, str]]:
    return sorted((w.element_id, w.name) for w in outcome.waits)


def open_ids(outcome: Outcome) -> list[str]:
    return sorted(t.element_id for t in outcome.open_tasks)


def deliver(runner: Runner, outcome: Outcome, name: str, variables: dict[str, Any] | None = None) -> Outcome:
    [wait] = [w for w in outcome.waits if w.name == name]
    return runner.deliver(outcome.state, wait, variables or {})


def complete(runner: Runner, outcome: Outcome, element_id: str, values: dict[str, Any] | None = None) -> Outcome:
    task = next(t for t in outcome.open_tasks if t.element_id == element_id)
    return runner.complete(outcome.state, task.id, values or {})


def test_boundary_catch_and_receive_task_each_take_their_message() -> None:
    runner = runner_for("message_waits")
    outcome = runner.start({"case_id": "C-77"})
    assert waits(outcome) == [("Boundary_Info", "customerInfo"), ("Boundary_Withdrawn", "caseWithdrawn")]
    assert all(w.data["case_id"] == "C-77" for w in outcome.waits)
    outcome = deliver(runner, outcome, "customerInfo", {"note": "new address"})
    assert outcome.caught_by == "Boundary_Info"
    assert open_ids(outcome) == ["Task_ReadInfo", "Task_Review"]
    [info] = [t for t in outcome.open_tasks if t.element_id == "Task_ReadInfo"]
    assert info.data["note"] == "new address" and outcome.written == {"note": "new address"}
    # Camunda keeps a non-interrupting boundary listening while its activity runs: a second message works too
    assert ("Boundary_Info", "customerInfo") in waits(outcome)
    outcome = deliver(runner, outcome, "customerInfo", {"note": "and a phone number"})
    assert open_ids(outcome) == ["Task_ReadInfo", "Task_ReadInfo", "Task_Review"]
    outcome = complete(runner, outcome, "Task_Review")
    assert waits(outcome) == [("Catch_Callback", "customerCalledBack")]  # the boundary waits ended with it
    outcome = deliver(runner, outcome, "customerCalledBack", {"callback_at": "2026-01-05T10:00:00Z"})
    assert waits(outcome) == [("Receive_Documents", "documentsReceived")]
    outcome = deliver(runner, outcome, "documentsReceived")
    outcome = complete(runner, outcome, "Task_ReadInfo")
    outcome = complete(runner, outcome, "Task_ReadInfo")
    assert outcome.status == "completed" and outcome.waits == []


def test_an_interrupting_boundary_message_cancels_its_task() -> None:
    runner = runner_for("message_waits")
    outcome = deliver(runner, runner.start({}), "caseWithdrawn")
    assert outcome.status == "completed"
    assert any(t.element_id == "Task_Review" and t.to_state == "cancelled" for t in outcome.transitions)


def test_a_wait_that_was_taken_is_not_taken_again() -> None:
    runner = runner_for("message_waits")
    started = runner.start({})
    [withdrawn] = [w for w in started.waits if w.name == "caseWithdrawn"]
    runner.deliver(started.state, withdrawn, {})
    after_info = deliver(runner, started, "customerInfo")
    with pytest.raises(NotWaiting):  # the same wait, on a state where the review already ended
        runner.deliver(complete(runner, after_info, "Task_Review").state, withdrawn, {})


def test_event_based_gateway_takes_the_branch_of_the_message() -> None:
    runner = runner_for("message_choice")
    outcome = runner.start({})
    assert waits(outcome) == [("Catch_Accepted", "offerAccepted"), ("Catch_Declined", "offerDeclined"),
                              ("Start_Complaint", "complaintRaised"), ("Start_Escalate", "caseEscalated")]
    assert [t.element_id for t in outcome.timers] == ["Gateway_Answer"]
    outcome = deliver(runner, outcome, "offerDeclined", {"reason": "too dear"})
    assert outcome.caught_by == "Catch_Declined"
    assert open_ids(outcome) == ["Task_Close"] and outcome.timers == []
    assert waits(outcome) == [("Start_Complaint", "complaintRaised"), ("Start_Escalate", "caseEscalated")]


def test_non_interrupting_event_subprocess_runs_beside_the_process_each_time() -> None:
    runner = runner_for("message_choice")
    outcome = deliver(runner, runner.start({"case_id": "C-1"}), "complaintRaised", {"complaint": "rude"})
    outcome = deliver(runner, outcome, "complaintRaised", {"complaint": "slow"})
    assert open_ids(outcome) == ["Task_LogComplaint", "Task_LogComplaint"]
    assert {t.data["complaint"] for t in outcome.open_tasks} == {"rude", "slow"}
    assert ("Catch_Accepted", "offerAccepted") in waits(outcome)  # the process still waits for its answer


def test_interrupting_event_subprocess_cancels_the_rest_of_its_scope() -> None:
    runner = runner_for("message_choice")
    outcome = deliver(runner, runner.start({}), "complaintRaised")
    outcome = deliver(runner, outcome, "caseEscalated", {"manager": "Morgan"})
    assert outcome.caught_by == "Start_Escalate"
    assert open_ids(outcome) == ["Task_Handover"]
    assert waits(outcome) == [] and outcome.timers == []
    cancelled = {t.element_id for t in outcome.transitions if t.to_state == "cancelled"}
    assert {"Task_LogComplaint", "Gateway_Answer"} <= cancelled
    outcome = complete(runner, outcome, "Task_Handover")
    assert outcome.status == "completed"


def test_a_message_start_event_starts_there_and_only_there() -> None:
    runner = runner_for("message_start")
    assert open_ids(runner.start({})) == ["Task_Log"]
    outcome = runner.start({"reporter": "telco-1"}, start_event="Start_Report")
    assert open_ids(outcome) == ["Task_Assess"]
    assert not any(t.element_id == "Task_Log" for t in outcome.transitions if t.to_state == "ready")


def test_thrown_messages_are_outbox_deliveries() -> None:
    runner = runner_for("message_start")
    outcome = complete(runner, runner.start({}), "Task_Log", {"summary": "down"})
    [ack] = outcome.services
    assert (ack.element_id, ack.topic) == ("Throw_Ack", "reportAcknowledged") and outcome.open_tasks == []
    outcome = runner.finish_service(outcome.state, ack.task_id, {})
    outcome = complete(runner, outcome, "Task_Fix")
    [closed] = outcome.services
    assert (closed.element_id, closed.topic) == ("End_Closed", "reportClosed")
    assert outcome.status == "running"  # not completed until the message is delivered
    assert runner.finish_service(outcome.state, closed.task_id, {}).status == "completed"
