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
