"""The pure parts of deployments: reading DMN and form files, regex safety, and cross-file references."""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from engine.decisions.dmn_file import read_dmn
from engine.deployments.references import Reference, check, collect
from engine.errors import Invalid, ProcedureInvalid
from engine.forms.patterns import PatternError, compile_pattern, matches
from engine.forms.schema import read_form

DEPLOY = Path(__file__).resolve().parent.parent / "fixtures" / "deployments"


def test_a_dmn_file_gives_every_decision_with_its_requirements() -> None:
    dmn = read_dmn((DEPLOY / "priority.dmn").read_bytes(), max_bytes=1 << 20)
    assert set(dmn.decisions) == {"priority", "impact_band"}
    priority = dmn.decisions["priority"]
    assert (priority.hit_policy, priority.required) == ("FIRST", ("impact_band",))
    assert [r.id for r in priority.rules] == ["Rule_p1", "Rule_p2", "Rule_p3"]
    assert priority.rules[1].inputs[1].text == "true"
    assert dmn.decisions["impact_band"].rules[1].inputs[0].text == "[100..1000["


def test_a_requirement_cycle_and_an_unknown_hit_policy_are_refused() -> None:
    text = (DEPLOY / "priority.dmn").read_bytes()
    cyclic = text.replace(b'<decisionTable id="Table_band"',
                          b'<informationRequirement><requiredDecision href="#priority" /></informationRequirement>'
                          b'<decisionTable id="Table_band"')
    with pytest.raises(ProcedureInvalid) as err:
        read_dmn(cyclic, max_bytes=1 << 20)
    assert "cycle" in err.value.problems[0].message
    with pytest.raises(ProcedureInvalid) as err:
        read_dmn(text.replace(b'hitPolicy="FIRST"', b'hitPolicy="SOMETIMES"'), max_bytes=1 << 20)
    assert err.value.problems[0].element_id == "Table_priority"


def test_a_form_gives_its_input_fields_in_order() -> None:
    form = read_form((DEPLOY / "callback.form").read_bytes())
    assert form.key == "callback_form"
    assert [f["key"] for f in form.fields] == ["customerRef", "amount", "severity", "approved", "notes", "email"]


@pytest.mark.parametrize(("content", "words"), [
    (b'{"components": []}', "no `id`"),
    (b'{"id": "f", "components": [{"type": "textfield"}]}', "needs a key"),
    (b'{"id": "f", "components": [{"type": "textfield", "key": "a"}, {"type": "number", "key": "a"}]}',
     "both bind"),
    (b'{"id": "f", "components": [{"type": "number", "key": "a", "validate": {"min": "=x"}}]}', "FEEL-valued"),
    (b'{"id": "f", "components": [{"type": "select", "key": "a", "valuesExpression": "=x"}]}',
     "valuesExpression"),
    (b'{"id": "f", "components": ' + b'[{"type": "group", "components": ' * 12 + b"[]" + b"}]" * 12 + b"}",
     "nested more than"),
])
def test_forms_that_cannot_be_used_are_refused(content: bytes, words: str) -> None:
    with pytest.raises(Invalid) as err:
        read_form(content)
    assert any(words in p.message for p in err.value.problems), err.value.problems


@pytest.mark.parametrize("pattern", ["^(a+)+$", "(a|b*)*", "(x{1,3}){2,}", r"(\d+)\1", "(?<=a)b", "x" * 501])
def test_dangerous_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(PatternError):
        compile_pattern(pattern)


def test_safe_patterns_match_like_javascript() -> None:
    assert matches("^C-[0-9]+$", "C-123") and not matches("^C-[0-9]+$", "C-12a")
    assert matches("[0-9]", "abc1")  # unanchored: a match anywhere
    assert not matches(r"^\d+$", "١٢")  # ASCII digits only, as in JavaScript


def _root(xml: str) -> object:
    return etree.fromstring(xml.encode())


_CALLS = """<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"><bpmn:process id="main" isExecutable="true">
  <bpmn:callActivity id="Call_local" calledElement="helper" />
  <bpmn:callActivity id="Call_other" calledElement="notify_regulator" camunda:calledElementBinding="version"
                     camunda:calledElementVersion="2" />
  <bpmn:callActivity id="Call_expr" calledElement="${target}" />
  <bpmn:businessRuleTask id="Decide" camunda:decisionRef="priority" />
  <bpmn:userTask id="Form_task" camunda:formKey="camunda-forms:deployment:triage.form" />
  </bpmn:process><bpmn:process id="helper" /></bpmn:definitions>"""


def test_references_leave_out_same_file_calls_and_expressions() -> None:
    refs, problems = collect(_root(_CALLS))
    assert not problems
    assert [(r.kind, r.key, r.binding, r.version, r.by_filename) for r in refs] == [
        ("process", "notify_regulator", "version", 2, False), ("decision", "priority", "latest", None, False),
        ("form", "triage.form", "deployment", None, True)]


def test_a_version_binding_without_a_version_is_a_problem() -> None:
    _, problems = collect(_root(_CALLS.replace('camunda:calledElementVersion="2"', "")))
    assert problems and problems[0].element_id == "Call_other" and problems[0].rule == "reference.binding"


def test_check_reports_only_unresolved_undeferred_references() -> None:
    found = Reference("process", "a", "latest", "Call_a", 3)
    missing = Reference("decision", "b", "latest", "Decide_b", 4)
    deferred = Reference("form", "c", "latest", "Form_c", 5, deferred=True)
    problems = check([found, missing, deferred], lambda r: None if r.key == "a" else "not deployed")
    assert [(p.element_id, p.line, p.rule) for p in problems] == [("Decide_b", 4, "reference.unresolved")]
