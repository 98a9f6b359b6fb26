"""The scenario file format: what it accepts, and every malformed file refused with the line of the problem."""
from __future__ import annotations

import json

import pytest

from engine.errors import Invalid
from engine.scenarios.format import parse
from engine.scenarios.located import MAX_BYTES
from tests.conftest import FIXTURES

SIMPLE = (FIXTURES / "scenarios" / "simple_flow.yaml").read_text()


def _refused(text: str | bytes, kind: str | None = None) -> list[dict[str, object]]:
    with pytest.raises(Invalid) as caught:
        parse(text, kind)
    return [p.as_dict() for p in caught.value.problems]


def test_a_suite_reads_into_scenarios_steps_and_expectations() -> None:
    suite = parse(SIMPLE)
    assert suite.procedure == "simple_flow"
    assert [s.name for s in suite.scenarios] == ["checked first time", "fixed after a failed check"]
    first = suite.scenarios[0]
    assert [(s.action, s.target) for s in first.steps] == [
        ("complete", "Task_Log"), ("complete", "Task_A"), ("complete", "Task_B"), ("complete", "Task_Close")]
    assert first.steps[0].data == {"summary": "line down", "ok": True}
    assert first.steps[0].expect is not None and first.steps[0].expect.open == ("Task_A", "Task_B")
    assert first.expect is not None and first.expect.end_events == ("End",)
    assert first.expect.variables["label"] == "done: line down"
    second = suite.scenarios[1]
    assert second.expect is not None and second.expect.checks == {"checked": ("failed", "passed")}
    assert second.expect.checks_exact == {"checked"}
    assert first.line == 4 and first.steps[0].line == 6


def test_json_is_read_the_same_way_with_lines() -> None:
    suite = parse(json.dumps({"scenarios": [{"name": "x", "steps": [{"wait": "PT1H"}, {"timer": "T"}]}]}, indent=2))
    assert [s.action for s in suite.scenarios[0].steps] == ["wait", "timer"]
    problems = _refused('{\n  "scenarios": [\n    {"name": "x", "steps": [{"complete": "A", "dat": {}}]}\n  ]\n}')
    assert problems[0]["line"] == 3 and "dat" in str(problems[0]["message"])


def test_repeat_options_and_not_testable() -> None:
    suite = parse("""
scenarios:
  - name: loop
    start: {priority: P1}
    at: 2026-03-02T08:00:00Z
    max_steps: 30
    steps:
      - repeat: 3
        steps:
          - complete: Task_Work
            data: {ok: false}
      - override: checked
        reason: known caller
      - service: Task_Notify
        outcome: failed
      - message: Message_Reply
        data: {text: hi}
        correlation: {ref: R-1}
      - signal: Signal_Outage
      - cancel: duplicate
not_testable:
  - flow: Flow_X
    reason: only in the quarterly drill
""")
    scenario = suite.scenarios[0]
    assert scenario.max_steps == 30 and scenario.at is not None and scenario.at.hour == 8
    assert scenario.start == {"priority": "P1"}
    repeat, override, service, message, signal, cancel = scenario.steps
    assert repeat.times == 3 and repeat.steps[0].data == {"ok": False}
    assert (override.target, override.reason) == ("checked", "known caller")
    assert service.outcome == "failed"
    assert message.correlation == {"ref": "R-1"} and message.data == {"text": "hi"}
    assert signal.target == "Signal_Outage" and cancel.reason == "duplicate"
    assert suite.not_testable[0].flow == "Flow_X" and suite.not_testable[0].line == 22


@pytest.mark.parametrize(("text", "line", "words"), [
    ("scenarios:\n  - name: a\n    steps:\n      - complete: [x\n", 5, "expected"),
    ("scenarios: [\n", 2, ""),
    ("scenarios:\n  - name: a\n    steps:\n      - bogus: 1\n", 4, "exactly one of"),
    ("scenarios:\n  - name: a\n    steps:\n      - complete: A\n        wait: PT1H\n", 4, "exactly one of"),
    ("scenarios:\n  - name: a\n    steps:\n      - complete: A\n        dta: {}\n", 5, "unknown key 'dta'"),
    ("scenarios:\n  - name: a\n    steps:\n      - wait: soon\n", 4, "ISO 8601"),
    ("scenarios:\n  - name: a\n    expect:\n      status: done\n", 4, "status is one of"),
    ("scenarios:\n  - name: a\n    expect:\n      checks: {c: maybe}\n", 4, "check outcome"),
    ("scenarios:\n  - name: a\n    max_steps: 0\n", 3, "max_steps"),
    ("scenarios:\n  - name: a\n  - name: a\n", 3, "two scenarios"),
    ("scenarios:\n  - name: a\n  - name: b\n    name: c\n", 4, "appears twice"),
    ("scenarios: []\n", 1, "non-empty list"),
    ("not_testable:\n  - flow: F\nscenarios:\n  - name: a\n", 2, "reason is required"),
    ("scenarios:\n  - name: a\n    start: [1, 2]\n", 3, "mapping"),
    ("a: &x [1, 2]\nscenarios:\n  - name: *x\n", 3, "aliases"),
    ("scenarios:\n  - name: a\n    steps:\n      - repeat: 2\n", 4, "repeat needs steps"),
])
def test_malformed_files_name_the_line(text: str, line: int, words: str) -> None:
    problems = _refused(text)
    assert problems[0]["line"] == line, problems
    assert words in str(problems[0]["message"]), problems


def test_every_problem_is_listed_at_once() -> None:
    problems = _refused("scenarios:\n  - name: a\n    steps:\n      - bogus: 1\n    expect:\n      status: x\n")
    assert [p["line"] for p in problems] == [4, 6]


def test_json_syntax_errors_come_from_the_json_parser_with_the_line() -> None:
    problems = _refused('{\n  "scenarios": [\n    {"name": "a",}\n  ]\n}', "json")
    assert problems[0]["line"] == 3 and problems[0]["rule"] == "scenarios.syntax"


def test_size_and_encoding_are_refused_before_parsing() -> None:
    assert _refused(b"#" * (MAX_BYTES + 1))[0]["rule"] == "scenarios.size"
    assert "UTF-8" in str(_refused(b"scenarios: \xff\n")[0]["message"])


def test_dates_stay_text_and_yaml_tags_beyond_the_core_are_refused() -> None:
    suite = parse("scenarios:\n  - name: a\n    start: {reported_at: 2026-01-05T09:00:00Z}\n")
    assert suite.scenarios[0].start == {"reported_at": "2026-01-05T09:00:00Z"}
    assert _refused("scenarios:\n  - name: !!python/object:os.system a\n")[0]["line"] == 2
