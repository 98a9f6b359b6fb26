"""Quartz cron (`0 0 9 ? * MON-FRI`) on boundary timers and event-subprocess timer starts, and cycles on
interrupting boundary timers (fire once, interrupt)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine import clock
from engine.bpmn.parser import load_procedure
from engine.errors import ProcedureInvalid
from engine.runtime.procedure import RuntimeProcedure, prepare_spec
from engine.runtime.runner import Runner
from engine.runtime.script_engine import SafeScriptEngine

HEAD = ('<?xml version="1.0" encoding="UTF-8"?><definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'targetNamespace="x"><process id="p" isExecutable="true">')
BOUNDARY = HEAD + """
  <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="Task_Work"/>
  <userTask id="Task_Work"/><sequenceFlow id="f2" sourceRef="Task_Work" targetRef="e"/><endEvent id="e"/>
  <boundaryEvent id="Timer_Remind" cancelActivity="CANCEL" attachedToRef="Task_Work">
    <timerEventDefinition><timeCycle>CYCLE</timeCycle></timerEventDefinition>
  </boundaryEvent>
  <sequenceFlow id="f3" sourceRef="Timer_Remind" targetRef="Task_Remind"/>
  <userTask id="Task_Remind"/><sequenceFlow id="f4" sourceRef="Task_Remind" targetRef="e2"/><endEvent id="e2"/>
</process></definitions>"""
EVENT_SUBPROCESS = HEAD + """
  <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="Task_Work"/>
  <userTask id="Task_Work"/><sequenceFlow id="f2" sourceRef="Task_Work" targetRef="e"/><endEvent id="e"/>
  <subProcess id="Sub_Review" triggeredByEvent="true">
    <startEvent id="Start_Review" isInterrupting="false">
      <timerEventDefinition><timeCycle>0 0/5 * * * ?</timeCycle></timerEventDefinition>
    </startEvent>
    <sequenceFlow id="f5" sourceRef="Start_Review" targetRef="Task_Review"/>
    <userTask id="Task_Review"/><sequenceFlow id="f6" sourceRef="Task_Review" targetRef="e3"/><endEvent id="e3"/>
  </subProcess>
</process></definitions>"""
MONDAY_0800 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday


def runner_for(xml: str) -> Runner:
    definition = load_procedure(xml.encode())
    prepare_spec(definition.spec, definition.subprocess_specs)
    return Runner(RuntimeProcedure("id", definition.key, 1, "sha", definition, definition.spec,
                                   definition.subprocess_specs), SafeScriptEngine())


@pytest.fixture
def fixed() -> clock.FixedClock:
    at = clock.FixedClock(MONDAY_0800)
    token = clock.use(at)
    yield at
    clock.reset(token)


def test_a_non_interrupting_cron_boundary_timer_fires_at_each_cron_moment(fixed: clock.FixedClock) -> None:
    runner = runner_for(BOUNDARY.replace("CANCEL", "false").replace("CYCLE", "0 0 9 ? * MON-FRI"))
    outcome = runner.start({})
    assert [t.due_at for t in outcome.timers] == [datetime(2026, 1, 5, 9, 0, tzinfo=UTC)]
    fixed.set(datetime(2026, 1, 5, 9, 0, 1, tzinfo=UTC))
    outcome = runner.fire_timers(outcome.state)
    assert sorted(t.element_id for t in outcome.open_tasks) == ["Task_Remind", "Task_Work"]
    assert [t.due_at for t in outcome.timers] == [datetime(2026, 1, 6, 9, 0, tzinfo=UTC)]  # the next weekday
    fixed.set(datetime(2026, 1, 9, 9, 0, 1, tzinfo=UTC))  # Friday: Tuesday to Thursday were missed, one firing
    outcome = runner.fire_timers(outcome.state)
    assert sorted(t.element_id for t in outcome.open_tasks) == ["Task_Remind", "Task_Remind", "Task_Work"]
    assert [t.due_at for t in outcome.timers] == [datetime(2026, 1, 12, 9, 0, tzinfo=UTC)]  # Monday, not Saturday


@pytest.mark.parametrize("cycle", ["0 0 9 ? * MON-FRI", "R/PT1H"])
def test_a_cycle_on_an_interrupting_boundary_timer_fires_once_and_interrupts(fixed: clock.FixedClock,
                                                                             cycle: str) -> None:
    runner = runner_for(BOUNDARY.replace("CANCEL", "true").replace("CYCLE", cycle))
    outcome = runner.start({})
    [timer] = outcome.timers
    fixed.set(timer.due_at + timedelta(seconds=1))
    outcome = runner.fire_timers(outcome.state)
    assert [t.element_id for t in outcome.open_tasks] == ["Task_Remind"]
    assert ("Task_Work", "cancelled") in [(t.element_id, t.to_state) for t in outcome.transitions]
    assert outcome.timers == []


def test_a_cron_event_subprocess_timer_start_opens_its_subprocess_at_each_moment(fixed: clock.FixedClock) -> None:
    runner = runner_for(EVENT_SUBPROCESS)
    outcome = runner.start({})
    assert [t.due_at for t in outcome.timers] == [datetime(2026, 1, 5, 8, 5, tzinfo=UTC)]
    fixed.set(datetime(2026, 1, 5, 8, 5, 1, tzinfo=UTC))
    outcome = runner.fire_timers(outcome.state)
    assert sorted(t.element_id for t in outcome.open_tasks) == ["Task_Review", "Task_Work"]
    assert [t.due_at for t in outcome.timers] == [datetime(2026, 1, 5, 8, 10, tzinfo=UTC)]


@pytest.mark.parametrize(("cycle", "message"), [
    ("0 0 25 * * ?", "not a valid Quartz cron expression"),
    ("0 0 9 ? * FUNDAY", "not a valid Quartz cron expression"),
])
def test_a_cron_that_cannot_be_scheduled_is_refused_at_upload(cycle: str, message: str) -> None:
    with pytest.raises(ProcedureInvalid) as caught:
        load_procedure(BOUNDARY.replace("CANCEL", "false").replace("CYCLE", cycle).encode())
    assert [p.rule for p in caught.value.problems] == ["unsupported.timer"]
    assert "Timer_Remind" in caught.value.problems[0].message and message in caught.value.problems[0].message


@pytest.mark.parametrize("timer", ["<timeCycle>0 0/5 * * * ?</timeCycle>", "<timeDuration>PT5M</timeDuration>"])
def test_a_process_whose_flow_ended_stops_listening_to_its_timer_event_subprocess(fixed: clock.FixedClock,
                                                                                  timer: str) -> None:
    runner = runner_for(EVENT_SUBPROCESS.replace("<timeCycle>0 0/5 * * * ?</timeCycle>", timer))
    outcome = runner.start({})
    outcome = runner.complete(outcome.state, outcome.open_tasks[0].id, {})
    assert outcome.status == "completed" and outcome.timers == []  # SpiffWorkflow alone waited for the timer


def test_a_running_event_subprocess_instance_keeps_its_process_open(fixed: clock.FixedClock) -> None:
    runner = runner_for(EVENT_SUBPROCESS)
    outcome = runner.start({})
    fixed.set(datetime(2026, 1, 5, 8, 5, 1, tzinfo=UTC))
    outcome = runner.fire_timers(outcome.state)
    work = next(t for t in outcome.open_tasks if t.element_id == "Task_Work")
    outcome = runner.complete(outcome.state, work.id, {})
    assert outcome.status == "running" and [t.element_id for t in outcome.open_tasks] == ["Task_Review"]
    outcome = runner.complete(outcome.state, outcome.open_tasks[0].id, {})
    assert outcome.status == "completed"
