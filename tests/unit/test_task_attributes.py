"""camunda:dueDate, followUpDate, priority and initiator are honoured; other Camunda attributes are named."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.bpmn.parser import load_procedure
from engine.errors import ProcedureInvalid
from engine.services import task_attributes as ta

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn" / "camunda" / "task_attributes.bpmn"
OPENED = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)


def test_dates_are_iso_date_times_durations_or_expressions() -> None:
    assert ta.moment("2026-03-01T09:00:00Z", {}, OPENED) == datetime(2026, 3, 1, 9, tzinfo=UTC)
    assert ta.moment("2026-03-01T09:00:00", {}, OPENED) == datetime(2026, 3, 1, 9, tzinfo=UTC)  # naive = UTC
    assert ta.moment("PT4H", {}, OPENED) == OPENED + timedelta(hours=4)
    assert ta.moment("${by}", {"by": "2026-02-03T10:00:00+01:00"}, OPENED) == datetime(2026, 2, 3, 9, tzinfo=UTC)
    assert ta.moment("${sla}", {"sla": "P1D"}, OPENED) == OPENED + timedelta(days=1)
    assert ta.moment("${by}", {}, OPENED) is None  # unknown: no date, as an unresolved candidate expression
    assert ta.moment(None, {}, OPENED) is None
    assert ta.moment("0001-01-01T00:00:00+01:00", {}, OPENED) is None  # no UTC time: no date, no crash
    assert ta.moment("P99999Y", {}, OPENED) is None


def test_priority_is_a_whole_number_defaulting_to_camundas_50() -> None:
    assert ta.priority(None, {}) == 50
    assert ta.priority("80", {}) == 80
    assert ta.priority("${urgency * 10}", {"urgency": 3}) == 30
    assert ta.priority("${urgency}", {"urgency": "7"}) == 7
    assert ta.priority("${urgency}", {}) == 50
    assert ta.priority("${flag}", {"flag": True}) == 50
    assert ta.priority("${n}", {"n": 10**12}) == 2**31 - 1  # held to the column's 32 bits
    assert ta.constant_problem("99999999999", "priority") == "is outside -2147483648..2147483647"


def test_the_model_keeps_the_attributes_and_warns_about_the_rest() -> None:
    definition = load_procedure(FIXTURE.read_bytes())
    task = definition.user_task("Task_Callback")
    assert task is not None
    assert (task.due_date, task.follow_up_date, task.priority, task.form_key) == (
        "${callback_by}", "PT2H", "${urgency * 10}", "embedded:app:forms/callback.html")
    assert definition.nodes["Start"].initiator == "starter"
    ignored = {(w.element_id, w.message.split(" has no effect")[0]) for w in definition.warnings
               if w.rule == "camunda.ignored"}
    assert ignored == {("Task_Callback", "camunda:asyncBefore on Task_Callback"),
                       ("task_attributes", "camunda:historyTimeToLive on task_attributes")}
    [async_before] = [w for w in definition.warnings if "asyncBefore" in w.message]
    assert "one database transaction" in async_before.message and async_before.line


@pytest.mark.parametrize(("attribute", "value", "why"), [
    ("dueDate", "tomorrow", "neither an ISO 8601 date-time"),
    ("followUpDate", "${dateTime().plusDays(1)}", "followUpDate of task Task_Check"),
    ("priority", "high", "neither a whole number"),
    ("formKey", "x" * 501, "formKey of task Task_Check is longer than 500 characters"),
])
def test_a_bad_constant_or_expression_is_refused_at_upload(attribute: str, value: str, why: str) -> None:
    data = FIXTURE.read_text(encoding="utf-8").replace(
        'camunda:priority="80"', f'camunda:priority="80" camunda:{attribute}="{value}"'.replace(
            'camunda:priority="80" camunda:priority', 'camunda:priority'))
    data = data.replace('camunda:dueDate="2026-03-01T09:00:00Z" ', "") if attribute == "dueDate" else data
    with pytest.raises(ProcedureInvalid) as caught:
        load_procedure(data.encode())
    [problem] = caught.value.problems
    assert problem.rule == "expression" and why in problem.message and problem.element_id == "Task_Check"


def test_a_java_delegate_on_a_message_event_is_refused_and_an_external_one_has_its_topic() -> None:
    base = ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D" targetNamespace="x">'
            '<bpmn:message id="M" name="caseClosed"/><bpmn:process id="p" isExecutable="true">'
            '<bpmn:startEvent id="S"/><bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="T"/>'
            '<bpmn:intermediateThrowEvent id="T"><bpmn:messageEventDefinition messageRef="M" {}/>'
            '</bpmn:intermediateThrowEvent><bpmn:sequenceFlow id="f2" sourceRef="T" targetRef="E"/>'
            '<bpmn:endEvent id="E"/></bpmn:process></bpmn:definitions>')
    with pytest.raises(ProcedureInvalid) as caught:
        load_procedure(base.format('camunda:class="org.example.Notify"').encode())
    [problem] = caught.value.problems
    assert problem.rule == "unsupported.java" and "message event T uses camunda:class" in problem.message
    external = load_procedure(base.format('camunda:type="external" camunda:topic="crm-close"').encode())
    assert external.nodes["T"].topic == "crm-close" and external.nodes["T"].external
