"""Every lint rule on its own small fixture: the fail file breaks exactly that rule, the pass file keeps it."""
from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from engine.bpmn.model import ProcedureDefinition
from engine.bpmn.parser import load_procedure
from engine.checks.findings import ERROR, RULES, WARNING
from engine.checks.lint import errors, lint, warnings

LINT = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn" / "lint"

# rule -> fixture stems (each has <stem>_fail.bpmn and <stem>_pass.bpmn)
FIXTURES = {
    "check.required": ["required_check"],
    "check.gateway": ["check_gateway"],
    "check.flows": ["check_flows"],
    "check.data": ["check_data", "check_data_boundary"],
    "graph.unreachable": ["unreachable"],
    "graph.dead_end": ["dead_end"],
    "gateway.no_default": ["no_default"],
    "loop.no_check": ["loop"],
    "task.no_owner": ["no_owner"],
    "personal.retention": ["personal_retention"],
    "personal.undeclared": ["personal_undeclared"],
    "personal.no_retention": ["personal_no_retention"],
    "personal.no_subject": ["personal_no_subject"],
}
CASES = [(rule, stem) for rule, stems in FIXTURES.items() for stem in stems]
# a pass file may keep its rule and break another one on purpose
EXPECTED_ON_PASS = {"check_flows": {"gateway.no_default"}}


@cache
def _load(name: str) -> ProcedureDefinition:
    return load_procedure((LINT / name).read_bytes())


def test_every_rule_in_the_catalogue_has_fixtures() -> None:
    assert set(FIXTURES) == set(RULES)
    for _rule, stem in CASES:
        assert (LINT / f"{stem}_fail.bpmn").is_file() and (LINT / f"{stem}_pass.bpmn").is_file()


@pytest.mark.parametrize(("rule", "stem"), CASES)
def test_the_fail_fixture_breaks_exactly_its_rule(rule: str, stem: str) -> None:
    findings = lint(_load(f"{stem}_fail.bpmn"))
    assert findings, f"{stem}_fail.bpmn should break {rule}"
    assert {f.rule for f in findings} == {rule}
    for f in findings:
        assert f.severity == RULES[rule][0]
        assert f.element_id and f.message


@pytest.mark.parametrize(("rule", "stem"), CASES)
def test_the_pass_fixture_keeps_its_rule(rule: str, stem: str) -> None:
    findings = lint(_load(f"{stem}_pass.bpmn"))
    assert {f.rule for f in findings} == EXPECTED_ON_PASS.get(stem, set())


def test_severities() -> None:
    assert {rule for rule, (severity, _) in RULES.items() if severity == WARNING} == {
        "gateway.no_default", "loop.no_check", "task.no_owner", "personal.undeclared", "personal.no_retention",
        "personal.no_subject"}
    assert all(severity in (ERROR, WARNING) for severity, _ in RULES.values())


def test_a_path_avoiding_a_required_check_is_named_element_by_element() -> None:
    [found] = lint(_load("required_check_fail.bpmn"))
    assert found.path == ("Start", "Task_Log", "Gateway_Urgent", "Task_Fast", "End_Done")
    assert found.element_id == "End_Done"
    assert "Start -> Task_Log -> Gateway_Urgent -> Task_Fast -> End_Done" in found.message
    assert "'verified'" in found.message
    assert found.line is not None


def test_escalation_ends_do_not_need_the_check() -> None:
    definition = _load("required_check_pass.bpmn")
    assert definition.nodes["End_Escalated"].event_kind == "escalation"
    assert lint(definition) == []


def test_a_required_check_no_gateway_declares_is_an_error_with_a_path() -> None:
    findings = lint(_load("required_check_pass.bpmn"), required=["signed_off"])
    [found] = findings
    assert found.rule == "check.required" and found.severity == ERROR
    assert "not declared by any gateway" in found.message
    assert found.path is not None and found.path[0] == "Start" and found.path[-1] == "End_Done"


def test_required_checks_come_from_the_process_and_the_caller() -> None:
    definition = _load("required_check_fail.bpmn")
    assert [f.rule for f in lint(definition, required=["verified"])] == ["check.required"]
    assert len(lint(definition, required=["other"])) == 2


def test_check_data_names_the_missing_name_and_a_path_without_it() -> None:
    [found] = lint(_load("check_data_fail.bpmn"))
    assert found.element_id == "Gateway_Check"
    assert "'approved'" in found.message
    assert found.path == ("Start", "Task_Log", "Gateway_Simple", "Task_Quick", "Gateway_Merge", "Gateway_Check")


def test_a_timer_path_does_not_count_the_form_of_its_task() -> None:
    [found] = lint(_load("check_data_boundary_fail.bpmn"))
    assert "'approved'" in found.message and "'summary'" not in found.message  # summary is start data
    assert found.path is not None and "Timer_Late" in found.path


def test_check_flows_reports_the_flows() -> None:
    [found] = lint(_load("check_flows_fail.bpmn"))
    assert "Flow_Waive" in found.message and "3 flow(s)" in found.message


def test_loops_are_reported_as_cycles() -> None:
    [found] = lint(_load("loop_fail.bpmn"))
    assert found.path == ("Task_Work", "Gateway_Done", "Task_Work")


def test_errors_come_before_warnings_and_findings_convert_to_problems() -> None:
    definition = _load("required_check_fail.bpmn")
    findings = lint(definition, required=["other"]) + lint(_load("no_owner_fail.bpmn"))
    assert errors(findings) and warnings(findings)
    problem = errors(findings)[0].as_problem().as_dict()
    assert problem["rule"] == "check.required" and problem["severity"] == "error"
    assert problem["path"][0] == "Start" and problem["element_id"] == "End_Done"
    as_dict = warnings(findings)[0].as_dict()
    assert set(as_dict) == {"rule", "severity", "element_id", "message", "path", "line"}
