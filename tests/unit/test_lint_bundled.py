"""The procedures we ship lint clean, declare their checks and start data, and an edited copy is caught."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.bpmn.parser import load_procedure
from engine.checks.declared import check_gateways, required_checks, start_data
from engine.checks.lint import lint

BUNDLED = Path(__file__).resolve().parents[2] / "bpmn"
LINT = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn" / "lint"

DECLARED = {
    "major_incident": ({"Gateway_TriageCheck": "triage_complete"}, {"priority", "summary", "caller_id"},
                       {"identity_verified", "priority"}),
    "data_breach": ({"Gateway_RiskAssessedCheck": "risk_assessed"}, {"aware_at", "summary"},
                    {"risk_assessed", "awareness_recorded", "risk_level"}),
    "customer_complaint": ({"Gateway_ContactCheck": "contact_verified"},
                           {"received_at", "customer_name", "channel"}, {"contact_verified"}),
    "data_subject_request": ({"Gateway_IdentityCheck": "identity_verified"}, {"received_at", "channel"},
                             {"identity_verified"}),
}


@pytest.mark.parametrize("key", sorted(DECLARED))
def test_bundled_procedures_lint_clean(key: str) -> None:
    definition = load_procedure((BUNDLED / f"{key}.bpmn").read_bytes())
    assert lint(definition) == []


@pytest.mark.parametrize("key", sorted(DECLARED))
def test_bundled_procedures_declare_their_checks_and_start_data(key: str) -> None:
    gateways, data, names = DECLARED[key]
    definition = load_procedure((BUNDLED / f"{key}.bpmn").read_bytes())
    checks = check_gateways(definition)
    assert {g: c.name for g, c in checks.items()} == gateways
    assert required_checks(definition) == list(gateways.values())
    assert start_data(definition) == data
    [check] = checks.values()
    assert check.names == names
    assert check.pass_flow is not None and check.pass_flow.condition
    assert check.fail_flow is not None and check.fail_flow.is_default and check.fail_flow.name == "fail"


def test_a_major_incident_that_lets_triage_skip_the_check_is_caught() -> None:
    text = (BUNDLED / "major_incident.bpmn").read_text(encoding="utf-8")
    text = text.replace('sourceRef="Task_Triage" targetRef="Gateway_TriageCheck"',
                        'sourceRef="Task_Triage" targetRef="Gateway_ParallelSplit"')
    findings = lint(load_procedure(text.encode()))
    rules = {f.rule for f in findings}
    assert "check.required" in rules
    [path_finding] = [f for f in findings if f.rule == "check.required"]
    assert path_finding.path is not None
    assert path_finding.path[:4] == ("StartEvent_IncidentReported", "Task_LogIncident", "Task_Triage",
                                     "Gateway_ParallelSplit")
    assert path_finding.path[-1] == "EndEvent_IncidentClosed"


def test_a_check_inside_a_subprocess_guards_the_paths_through_it() -> None:
    text = (LINT / "subprocess_check.bpmn").read_text(encoding="utf-8")
    assert lint(load_procedure(text.encode())) == []
    bypass = text.replace('<bpmn:endEvent id="Sub_End" />', '<bpmn:endEvent id="Sub_End" />\n'
                          '      <bpmn:sequenceFlow id="Flow_S2" sourceRef="Sub_Start" targetRef="Sub_End" />')
    [found] = lint(load_procedure(bypass.encode()))
    assert found.rule == "check.required"
    assert found.path == ("Start", "Task_Approve", "Sub_Review", "End")


def test_data_collected_before_a_subprocess_reaches_a_check_inside_it() -> None:
    text = (LINT / "subprocess_check.bpmn").read_text(encoding="utf-8")
    renamed = text.replace('<camunda:formField id="approved" label="Approved" type="boolean" />',
                           '<camunda:formField id="other" label="Other" type="boolean" />', 1)
    [found] = lint(load_procedure(renamed.encode()))
    assert found.rule == "check.data"
    assert found.path == ("Sub_Start", "Gateway_Check")
