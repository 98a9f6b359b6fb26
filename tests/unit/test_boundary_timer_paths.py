"""Boundary timers as Camunda 7 runs them: a repeating non-interrupting timer's paths outlive the activity,
a timer that re-enters its own activity leaves no stale timer, a cycle expression that gives null is named."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from engine import clock
from engine.runtime.runner import IncidentFailed, Outcome, Runner
from tests.unit.test_implicit_flows import done, names, proc, runner_for

REPEATING = proc("""<startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="Wait_Customer"/>
  <ACTIVITY id="Wait_Customer"/><sequenceFlow id="f1" sourceRef="Wait_Customer" targetRef="e"/><endEvent id="e"/>
  <boundaryEvent id="Timer_Remind" attachedToRef="Wait_Customer" cancelActivity="false">
    <timerEventDefinition><timeCycle>CYCLE</timeCycle></timerEventDefinition></boundaryEvent>
  <sequenceFlow id="f2" sourceRef="Timer_Remind" targetRef="Task_Remind"/>
  <userTask id="Task_Remind"/><sequenceFlow id="f3" sourceRef="Task_Remind" targetRef="e2"/><endEvent id="e2"/>""")
RE_ENTER = proc("""<startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="Task_Accept"/>
  <userTask id="Task_Accept"/>
  <boundaryEvent id="Timer_Restart" cancelActivity="true" attachedToRef="Task_Accept">
    <timerEventDefinition>TIMER</timerEventDefinition></boundaryEvent>
  <sequenceFlow id="f1" sourceRef="Timer_Restart" targetRef="Task_Accept"/>
  <sequenceFlow id="f2" sourceRef="Task_Accept" targetRef="e"/><endEvent id="e"/>""")


@pytest.fixture
def fixed() -> Iterator[clock.FixedClock]:
    at = clock.FixedClock(datetime(2026, 1, 5, 8, 0, tzinfo=UTC))  # a Monday
    token = clock.use(at)
    yield at
    clock.reset(token)


def tick(runner: Runner, outcome: Outcome, fixed: clock.FixedClock) -> Outcome:
    assert outcome.next_timer_at is not None
    fixed.set(outcome.next_timer_at + timedelta(seconds=1))
    runner._last = None  # each step from the saved state, as the service does
    return runner.fire_timers(outcome.state)


def repeating(activity: str, cycle: str) -> str:
    return REPEATING.replace("ACTIVITY", activity).replace("CYCLE", cycle)


@pytest.mark.parametrize("cycle", ["R/PT1H", "0 0 * * * ?", "${reminder}"])
def test_a_repeating_non_interrupting_timers_paths_outlive_a_receive_task(fixed: clock.FixedClock,
                                                                        cycle: str) -> None:
    runner = runner_for(repeating("receiveTask", cycle))
    outcome = runner.start({"reminder": "R/PT1H"})
    assert outcome.next_timer_at == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    outcome = tick(runner, tick(runner, outcome, fixed), fixed)
    assert names(outcome) == ["Task_Remind", "Task_Remind"] and [w.element_id for w in outcome.waits] == ["Wait_Customer"]
    runner._last = None
    outcome = runner.deliver(outcome.state, outcome.waits[0], {})
    assert outcome.status == "running" and names(outcome) == ["Task_Remind", "Task_Remind"]
    assert outcome.next_timer_at is None and outcome.timers == []  # the activity ended: no more reminders
    assert ("Timer_Remind", "cancelled") in [(t.element_id, t.to_state) for t in outcome.transitions]
    outcome = done(runner, done(runner, outcome, "Task_Remind"), "Task_Remind")
    assert outcome.status == "completed"


def test_a_user_tasks_repeating_timer_counts_its_repeats_and_keeps_its_paths(fixed: clock.FixedClock) -> None:
    runner = runner_for(repeating("userTask", "R2/PT1H"))
    outcome = tick(runner, tick(runner, runner.start({}), fixed), fixed)
    assert names(outcome) == ["Task_Remind", "Task_Remind", "Wait_Customer"]
    assert outcome.next_timer_at is None  # R2: two firings, then no more
    outcome = done(runner, outcome, "Wait_Customer")
    assert names(outcome) == ["Task_Remind", "Task_Remind"] and outcome.status == "running"


def test_a_cycle_expression_that_gives_null_fails_naming_the_timer(fixed: clock.FixedClock) -> None:
    runner = runner_for(repeating("receiveTask", "${reminder}"))
    with pytest.raises(IncidentFailed, match=r"timeCycle '\$\{reminder\}' gave None, not an ISO 8601 repeating "
                                             r"interval.* at Timer_Remind"):
        runner.start({})
    with pytest.raises(IncidentFailed, match="gave 'soon', not an ISO 8601"):
        runner.start({"reminder": "soon"})


@pytest.mark.parametrize("timer", ["<timeDuration>PT1H</timeDuration>", "<timeCycle>0 0 * * * ?</timeCycle>",
                                   "<timeCycle>R/PT1H</timeCycle>"])
def test_a_timer_that_re_enters_its_activity_leaves_no_stale_timer(fixed: clock.FixedClock, timer: str) -> None:
    runner = runner_for(RE_ENTER.replace("TIMER", timer))
    outcome = runner.start({})
    for _ in range(4):
        outcome = tick(runner, outcome, fixed)
        assert names(outcome) == ["Task_Accept"], outcome.transitions
        assert [t.element_id for t in outcome.timers] == ["Timer_Restart"]
    outcome = done(runner, outcome, "Task_Accept")
    assert outcome.status == "completed" and outcome.timers == []
