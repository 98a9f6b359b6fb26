"""Upload rules against models that could never work here: refused (or warned) with the element named."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.bpmn.containment import ModelLimits
from engine.bpmn.cycles import parse_cycle
from engine.bpmn.parser import load_procedure
from engine.errors import ProcedureInvalid

from ..conftest import FIXTURES

HERE = FIXTURES / "bpmn" / "containment"


def _refused(path: Path, **kw: object) -> list[tuple[str | None, str | None]]:
    with pytest.raises(ProcedureInvalid) as caught:
        load_procedure(path.read_bytes(), **kw)  # type: ignore[arg-type]
    return [(p.element_id, p.rule) for p in caught.value.problems]


@pytest.mark.parametrize(("name", "expected"), [
    ("recursive_call", [("Call_Self", "containment.recursive_call")]),
    ("mutual_call", [("Call_Helper", "containment.recursive_call"), ("Call_Back", "containment.recursive_call")]),
    ("fast_cycle", [("Timer_Remind", "containment.fast_cycle")]),
    ("starved_join", [("Join", "containment.starved_join")]),
    ("lost_token", [("Join", "containment.lost_token")]),
])
def test_models_that_never_end_or_never_fire_are_refused(name: str, expected: list[tuple[str, str]]) -> None:
    assert _refused(HERE / f"{name}.bpmn") == expected


def test_a_plain_task_is_accepted_with_a_warning_that_it_passes_through() -> None:
    definition = load_procedure((HERE / "plain_task.bpmn").read_bytes())
    [warning] = [w for w in definition.warnings if w.rule == "containment.plain_task"]
    assert warning.element_id == "Task_Plain" and "passes straight through" in warning.message


def test_a_reminder_every_half_hour_and_a_cycle_from_data_are_accepted() -> None:
    for name in ("reminder_cycle", "runaway_cycle"):
        load_procedure((HERE / f"{name}.bpmn").read_bytes())


def test_element_count_and_nesting_limits_refuse_at_upload() -> None:
    path = FIXTURES / "bpmn" / "rework_loop.bpmn"
    load_procedure(path.read_bytes())
    assert ("containment.size" in {rule for _e, rule in _refused(path, limits=ModelLimits(max_elements=3))})
    nested = (FIXTURES / "bpmn" / "lint" / "subprocess_check.bpmn")
    load_procedure(nested.read_bytes())
    assert "containment.nesting" in {rule for _e, rule in _refused(nested, limits=ModelLimits(max_nesting=0))}


def test_cycles_are_read_from_iso_repeating_intervals() -> None:
    assert parse_cycle("R/PT0S").repeats is None  # type: ignore[union-attr]
    assert parse_cycle("R3/PT10M").repeats == 3  # type: ignore[union-attr]
    assert parse_cycle("R/PT0.5S").interval.total_seconds() == 0.5  # type: ignore[union-attr]
    assert parse_cycle("${cycle}") is None and parse_cycle("0 0 * * *") is None


LOST = (HERE / "lost_token.bpmn").read_text()


def _variant(old: str, new: str) -> bytes:
    assert old in LOST
    return LOST.replace(old, new).encode()


def test_a_lost_token_names_the_join_the_choice_and_the_exit() -> None:
    with pytest.raises(ProcedureInvalid) as caught:
        load_procedure(LOST.encode())
    [problem] = caught.value.problems
    assert problem.element_id == "Join" and problem.line is not None
    assert "F_B2" in problem.message and "Maybe" in problem.message and "F_Skip" in problem.message


@pytest.mark.parametrize(("why", "old", "new"), [
    ("the exit ends the whole process", '<bpmn:endEvent id="End_Skip"><bpmn:incoming>F_Skip</bpmn:incoming>',
     '<bpmn:endEvent id="End_Skip"><bpmn:incoming>F_Skip</bpmn:incoming><bpmn:terminateEventDefinition/>'),
    ("the exit loops back to the choice", '<bpmn:sequenceFlow id="F_Skip" sourceRef="Maybe" targetRef="End_Skip" />',
     '<bpmn:sequenceFlow id="F_Skip" sourceRef="Maybe" targetRef="Maybe" />'),
    ("the exit ends in an error", '<bpmn:endEvent id="End_Skip"><bpmn:incoming>F_Skip</bpmn:incoming>',
     '<bpmn:endEvent id="End_Skip"><bpmn:incoming>F_Skip</bpmn:incoming><bpmn:errorEventDefinition errorRef="Skipped"/>'),
    ("the join is an inclusive gateway", '<bpmn:parallelGateway id="Join">', '<bpmn:inclusiveGateway id="Join">'),
])
def test_no_lost_token_when_the_exit_cannot_starve_the_join(why: str, old: str, new: str) -> None:
    data = _variant(old, new)
    if "inclusiveGateway id=\"Join\"" in new:
        data = data.replace(b"</bpmn:parallelGateway>\n    <bpmn:userTask id=\"Task_After\"",
                            b"</bpmn:inclusiveGateway>\n    <bpmn:userTask id=\"Task_After\"")
    load_procedure(data)  # accepted: no lost token, and nothing else wrong


def test_a_parallel_join_behind_a_conditional_inclusive_split_is_refused() -> None:
    data = _variant('<bpmn:parallelGateway id="Split">', '<bpmn:inclusiveGateway id="Split">')
    data = data.replace(b'<bpmn:outgoing>F_B</bpmn:outgoing></bpmn:parallelGateway>',
                        b'<bpmn:outgoing>F_B</bpmn:outgoing></bpmn:inclusiveGateway>')
    data = data.replace(b'<bpmn:sequenceFlow id="F_B" sourceRef="Split" targetRef="Maybe" />',
                        b'<bpmn:sequenceFlow id="F_B" sourceRef="Split" targetRef="Maybe"><bpmn:conditionExpression '
                        b'xsi:type="bpmn:tFormalExpression">${go == 2}</bpmn:conditionExpression></bpmn:sequenceFlow>')
    data = data.replace(b'<bpmn:sequenceFlow id="F_Skip" sourceRef="Maybe" targetRef="End_Skip" />',
                        b'<bpmn:sequenceFlow id="F_Skip" sourceRef="Maybe" targetRef="Join" />')
    data = data.replace(b'<bpmn:incoming>F_B2</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>',
                        b'<bpmn:incoming>F_B2</bpmn:incoming><bpmn:incoming>F_Skip</bpmn:incoming>'
                        b'<bpmn:outgoing>F2</bpmn:outgoing>')
    with pytest.raises(ProcedureInvalid) as caught:
        load_procedure(data)
    rules = {(p.element_id, p.rule) for p in caught.value.problems}
    assert ("Join", "containment.starved_join") in rules or ("Join", "containment.lost_token") in rules, rules


def test_an_interrupting_event_subprocess_can_free_the_join_so_it_is_not_refused() -> None:
    data = _variant('<bpmn:endEvent id="End_Skip">',
                    '<bpmn:subProcess id="Escape" triggeredByEvent="true"><bpmn:startEvent id="Esc_Start">'
                    '<bpmn:outgoing>E1</bpmn:outgoing><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H'
                    '</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent><bpmn:endEvent id="Esc_End">'
                    '<bpmn:incoming>E1</bpmn:incoming></bpmn:endEvent><bpmn:sequenceFlow id="E1" '
                    'sourceRef="Esc_Start" targetRef="Esc_End" /></bpmn:subProcess><bpmn:endEvent id="End_Skip">')
    load_procedure(data)


def test_the_bundled_procedures_have_no_lost_token() -> None:
    from ..conftest import BUNDLED

    for path in sorted(BUNDLED.glob("*.bpmn")):
        load_procedure(path.read_bytes())
