"""Task form payloads: every rule and conversion of engine.bpmn.forms."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from engine.bpmn.forms import read_form, validate_submission
from engine.bpmn.model import EnumOption, FormField
from engine.errors import Invalid

PRIORITY = FormField("priority", "Priority", "enum", required=True,
                     options=(EnumOption("P1", "Critical"), EnumOption("P2", "High")))
FORM = (FormField("summary", "Summary", "string", required=True), PRIORITY,
        FormField("count", "Count", "long"), FormField("loss", "Loss", "double"),
        FormField("breach", "Breach", "boolean"), FormField("aware_at", "Aware at", "date"))


def errors(form: tuple[FormField, ...], data: Any) -> dict[str | None, str]:
    with pytest.raises(Invalid) as caught:
        validate_submission(form, data)
    assert caught.value.detail == "the submitted data does not match the task's form"
    return {p.field: p.message for p in caught.value.problems}


def one(field: FormField, value: Any) -> Any:
    return validate_submission((field,), {field.id: value})[field.id]


def test_a_good_submission_is_converted() -> None:
    result = validate_submission(
        FORM,
        {"summary": "Outage", "priority": "P1", "count": "42", "loss": 3, "breach": "true",
         "aware_at": "2026-01-05"},
    )
    assert result == {"summary": "Outage", "priority": "P1", "count": 42, "loss": 3.0, "breach": True,
                      "aware_at": "2026-01-05"}


def test_every_bad_field_is_listed_at_once() -> None:
    found = errors(FORM, {"priority": "P9", "count": 4.5, "colour": "red"})
    assert set(found) == {"colour", "summary", "priority", "count"}
    assert (found["colour"]
            == "unknown field 'colour'; this form has: summary, priority, count, loss, breach, aware_at")
    assert found["summary"] == "field 'summary' is required"
    assert "P1, P2" in found["priority"]


def test_a_field_left_out_takes_its_default_value_as_in_camunda() -> None:
    form = (FormField("priority", "Priority", "enum", required=True, default="P2", options=PRIORITY.options),
            FormField("note", "Note", "string", default="x"), FormField("other", "Other", "string"))
    assert validate_submission(form, {}) == {"priority": "P2", "note": "x"}
    assert validate_submission(form, {"priority": None, "note": "mine"}) == {"priority": "P2", "note": "mine"}


@pytest.mark.parametrize(("value", "expected"), [(42, 42), ("42", 42), ("-7", -7), (" 8 ", 8), (0, 0)])
def test_long_accepts_integers_and_integer_strings(value: Any, expected: int) -> None:
    assert one(FormField("n", "N", "long"), value) == expected


@pytest.mark.parametrize("value", [True, False, 4.5, 4.0, "4.5", "abc", "", 2**63, [1], {"a": 1}])
def test_long_refuses_the_rest(value: Any) -> None:
    assert "whole number" in errors((FormField("n", "N", "long"),), {"n": value})["n"]


@pytest.mark.parametrize(("value", "expected"), [(1, 1.0), (2.5, 2.5), ("2.5", 2.5), ("-1e3", -1000.0)])
def test_double(value: Any, expected: float) -> None:
    assert one(FormField("x", "X", "double"), value) == expected


@pytest.mark.parametrize("value", [True, "nan", "inf", float("nan"), float("inf"), "abc", [1.0]])
def test_double_refuses_non_numbers(value: Any) -> None:
    assert "a number" in errors((FormField("x", "X", "double"),), {"x": value})["x"]


@pytest.mark.parametrize(("value", "expected"),
                         [(True, True), (False, False), ("true", True), ("false", False)])
def test_boolean(value: Any, expected: bool) -> None:
    assert one(FormField("b", "B", "boolean"), value) is expected


@pytest.mark.parametrize("value", [1, 0, "yes", "", "1"])
def test_boolean_refuses_the_rest(value: Any) -> None:
    assert "true or false" in errors((FormField("b", "B", "boolean"),), {"b": value})["b"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2026-01-05", "2026-01-05"), ("2026-01-05T10:00:00+02:00", "2026-01-05T08:00:00+00:00"),
     ("2026-01-05T10:00:00Z", "2026-01-05T10:00:00+00:00"), ("2026-01-05 10:00", "2026-01-05T10:00:00+00:00"),
     ("2026-01-05T10:00:00.250-05:00", "2026-01-05T15:00:00.250000+00:00")],
)
def test_date_is_normalised(value: str, expected: str) -> None:
    assert one(FormField("d", "D", "date"), value) == expected


@pytest.mark.parametrize("value",
                         ["05/01/2026", "2026-13-01", "20260105", "2026-01-05T25:00", 20260105, "soon"])
def test_date_refuses_the_rest(value: Any) -> None:
    assert "ISO 8601" in errors((FormField("d", "D", "date"),), {"d": value})["d"]


def test_enum_names_the_allowed_ids() -> None:
    assert one(PRIORITY, "P2") == "P2"
    assert errors((PRIORITY,), {"priority": "Critical"})["priority"] == (
        "field 'priority' must be one of: P1, P2 (got 'Critical')"
    )


def test_string_type_and_lengths() -> None:
    field = FormField("s", "S", "string")
    assert one(field, "ok") == "ok"
    assert "must be a string" in errors((field,), {"s": 5})["s"]
    assert "10000" in errors((field,), {"s": "x" * 10_001})["s"]
    limited = FormField("s", "S", "string", max_length=3, min_length=2)
    assert "3 characters" in errors((limited,), {"s": "abcd"})["s"]
    assert "at least 2" in errors((limited,), {"s": "a"})["s"]


def test_numeric_bounds() -> None:
    field = FormField("n", "N", "long", minimum=1, maximum=5)
    assert one(field, 5) == 5
    assert "at least 1" in errors((field,), {"n": 0})["n"]
    assert "at most 5" in errors((field,), {"n": 6})["n"]


def test_readonly_fields_may_not_be_submitted() -> None:
    field = FormField("ticket", "Ticket", "string", readonly=True)
    assert validate_submission((field,), {}) == {}
    assert "read-only" in errors((field,), {"ticket": "T-1"})["ticket"]


def test_payload_must_be_an_object() -> None:
    assert "JSON object" in errors(FORM, ["summary"])[None]


def test_form_without_fields_accepts_any_json_object() -> None:
    payload = {"note": "fine", "n": 1, "nested": {"list": [1, 2.5, None, True]}, "_x": None}
    assert validate_submission((), payload) == payload


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"bad key": 1}, "bad key"), ({"1abc": 1}, "1abc"), ({"x" * 65: 1}, "x" * 65), ({"s": {1, 2}}, "s"),
     ({"o": object()}, "o"), ({"f": float("nan")}, "f"), ({"d": {1: "int key"}}, "d")],
)
def test_form_without_fields_refuses_bad_keys_and_values(payload: dict, field: str) -> None:
    assert field in errors((), payload)


def test_form_without_fields_caps_size_and_depth() -> None:
    assert "limit" in errors((), {"big": "x" * 70_000})[None]
    deep: Any = 1
    for _ in range(50):
        deep = [deep]
    assert "nested deeper" in errors((), {"deep": deep})["deep"]


# --- reading camunda:formData -----------------------------------------------------------------------
def form_xml(fields: str, ns: str = "http://camunda.org/schema/1.0/bpmn") -> Any:
    return etree.fromstring(
        '<bpmn:userTask xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        f'xmlns:camunda="{ns}" id="T">'
        f"<bpmn:extensionElements><camunda:formData>{fields}</camunda:formData></bpmn:extensionElements>"
        "</bpmn:userTask>"
    )


def test_read_form_constraints_defaults_and_options() -> None:
    fields, problems = read_form(
        form_xml(
            '<camunda:formField id="a" label="A" type="long" defaultValue="7"><camunda:validation>'
            '<camunda:constraint name="required" config="false"/><camunda:constraint name="min" config="1"/>'
            "</camunda:validation></camunda:formField>"
            '<camunda:formField id="b" type="enum" defaultValue="y"><camunda:validation>'
            '<camunda:constraint name="required"/></camunda:validation>'
            '<camunda:value id="x" name="Ex"/><camunda:value id="y" name="Why"/></camunda:formField>'
            '<camunda:formField id="c" type="boolean" defaultValue="true"/>'
        )
    )
    assert problems == []
    a, b, c = fields
    assert (a.required, a.default, a.minimum, a.label) == (False, 7, 1.0, "A")
    assert (b.required, b.default, b.option_ids, b.label) == (True, "y", ("x", "y"), "b")
    assert c.default is True


def test_read_form_reports_bad_definitions() -> None:
    _, problems = read_form(form_xml('<camunda:formField id="a" type="colour"/>'
                                     '<camunda:formField id="b" type="enum"/>'
                                     '<camunda:formField id="c" type="long" defaultValue="many"/>'
                                     '<camunda:formField id="d"/><camunda:formField id="d"/>'
                                     '<camunda:formField id="bad id"/>'))
    messages = " | ".join(p.message for p in problems)
    assert "type 'colour'" in messages and "enum form field 'b'" in messages
    assert "default value of form field 'c'" in messages and "field 'd' twice" in messages
    assert "'bad id'" in messages
    assert all(p.element_id == "T" and p.line for p in problems)


def test_read_form_understands_the_legacy_activiti_namespace() -> None:
    fields, _ = read_form(
        form_xml('<camunda:formField id="a" type="string"/>', ns="http://activiti.org/bpmn")
    )
    assert [f.id for f in fields] == ["a"]
