"""What the simulated agents type: valid values by field type, required fields always, configurable choices."""
from __future__ import annotations

import random
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "loadtests"))

from desk_values import fill, start_data, value_for  # noqa: E402

FORM = [
    {"id": "summary", "type": "string", "required": True},
    {"id": "ok", "type": "boolean", "required": True},
    {"id": "count", "type": "long", "required": True},
    {"id": "amount", "type": "double", "required": True},
    {"id": "when", "type": "date", "required": True},
    {"id": "severity", "type": "enum", "required": True, "options": [{"id": "low"}, {"id": "high"}]},
    {"id": "note", "type": "string", "required": False},
]


def test_every_required_field_gets_a_value_of_its_type() -> None:
    data = fill(FORM, random.Random(1), optional_fill=0.0)
    assert set(data) == {"summary", "ok", "count", "amount", "when", "severity"}
    assert isinstance(data["summary"], str) and isinstance(data["ok"], bool)
    assert 1 <= data["count"] <= 100 and isinstance(data["amount"], float)
    assert data["when"] == date.today().isoformat() and data["severity"] in ("low", "high")


def test_optional_fields_follow_their_probability() -> None:
    assert "note" in fill(FORM, random.Random(1), optional_fill=1.0)


def test_booleans_pass_with_the_pass_probability_so_checks_sometimes_fail() -> None:
    rng = random.Random(7)
    values = [value_for({"id": "ok", "type": "boolean"}, rng, 0.8) for _ in range(2000)]
    assert 0.75 < sum(values) / len(values) < 0.85
    assert not any(value_for({"id": "ok", "type": "boolean"}, rng, 0.0) for _ in range(50))


def test_choices_override_a_field() -> None:
    rng = random.Random(3)
    choices = {"severity": {"high": 1, "low": 0}, "ok": 1.0, "summary": "fixed"}
    for _ in range(20):
        data = fill(FORM, rng, pass_probability=0.0, choices=choices)
        assert (data["severity"], data["ok"], data["summary"]) == ("high", True, "fixed")


def test_start_data_has_generic_defaults_and_takes_overrides() -> None:
    data = start_data(3, {"priority": "P1"})
    assert data["priority"] == "P1" and data["summary"] == "load-test incident 3"
    assert {"aware_at", "received_at", "caller_id", "customer_name", "channel"} <= set(data)


BUNDLED_FORMS = sorted((Path(__file__).resolve().parents[2] / "bpmn").glob("*.form"))
FIXTURE_FORM = Path(__file__).resolve().parents[1] / "fixtures" / "deployments" / "callback.form"


def test_a_filled_camunda_form_passes_the_servers_validation() -> None:
    """Every bundled .form, filled by the load test's agents, is accepted as the engine validates it (so a
    .form with required fields passes the first start's fitness test)."""
    from desk_values import fill_camunda, fill_task

    from engine.forms.schema import read_form
    from engine.forms.validate import validate_camunda_submission

    assert BUNDLED_FORMS
    for path in BUNDLED_FORMS:
        form = read_form(path.read_bytes())
        ticked = set()
        for seed in range(60):
            data = fill_camunda(form.schema, random.Random(seed))
            accepted = validate_camunda_submission(form, data)
            required = {c["key"] for c in form.fields if (c.get("validate") or {}).get("required")}
            assert required & set(data) == required, (path.name, seed)
            ticked |= {k for k, v in accepted.items() if v is True}
        assert set(fill_task({"camunda_form": {"schema": form.schema}, "form": []}, random.Random(1))) == \
            set(fill_camunda(form.schema, random.Random(1)))
        if path.name.endswith(".intake.form"):
            assert "identity_verified" in ticked  # an optional checkbox passes with the pass probability
    callback = read_form(FIXTURE_FORM.read_bytes())  # a required pattern field: filled from `choices`
    data = fill_camunda(callback.schema, random.Random(3), choices={"customerRef": "C-12"})
    assert validate_camunda_submission(callback, data)["customerRef"] == "C-12"
    assert "customerRef" not in fill_camunda(callback.schema, random.Random(3))


def test_a_task_with_generated_fields_is_filled_as_before() -> None:
    from desk_values import fill_task

    assert set(fill_task({"form": FORM, "camunda_form": None}, random.Random(1), optional_fill=0.0)) == \
        set(fill(FORM, random.Random(1), optional_fill=0.0))
