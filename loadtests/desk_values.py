"""What a simulated agent types into a task form, and the start data of a simulated incident.

Pure standard library (no locust import), so the rules are unit-tested without gevent. Values follow the
form's field types, so every submission is valid: enum = one of its options, boolean = True with the
pass probability (check gateways pass or fail, so rework loops and escalations happen), long = a small
int, double = a small number, date = today, string = text. Required fields are always filled; optional
ones with `optional_fill` probability. `choices` overrides a field: a number is the probability of True,
an object gives weights per option, anything else is used as the value.

A task with a Camunda Form (`camunda_form.schema` in GET /tasks/{id}, a form-js schema) is filled by
`fill_camunda`: the same rules over its components (checkbox = boolean, number within `validate.min/max`,
select/radio = one of `values`, checklist/taglist = a list of them, datetime by subtype, text within
`minLength/maxLength`, `validationType` email/phone), required ones always (a required checkbox must be
ticked, as form-js demands), inside groups too. A field hidden by `conditional.hide` may be filled: the
server drops hidden fields. A text field with a `pattern` is filled only from its `defaultValue`.
`fill_task` picks whichever form a task has.
"""
from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

GENERIC_START_DATA: dict[str, Any] = {
    "priority": "P2", "caller_id": "LT-CALLER", "customer_name": "Load Test", "channel": "phone",
}


def start_data(n: int, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Start data that fits the bundled procedures and is harmless for others (unused keys are just data)."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    data = {**GENERIC_START_DATA, "summary": f"load-test incident {n}", "aware_at": now, "received_at": now}
    data.update(overrides or {})
    return data


def _chosen(choice: Any, field: Mapping[str, Any], rng: random.Random) -> Any:
    if field.get("type") == "boolean" and isinstance(choice, int | float) and not isinstance(choice, bool):
        return rng.random() < float(choice)
    if isinstance(choice, Mapping):
        options = [str(k) for k in choice]
        return rng.choices(options, weights=[float(w) for w in choice.values()])[0]
    return choice


def value_for(field: Mapping[str, Any], rng: random.Random, pass_probability: float,
              choices: Mapping[str, Any] | None = None) -> Any:
    """One valid value for one form field."""
    if choices and field.get("id") in choices:
        return _chosen(choices[field["id"]], field, rng)
    kind = field.get("type") or "string"
    if kind == "boolean":
        return rng.random() < pass_probability
    if kind == "enum":
        options = [o["id"] for o in field.get("options") or [] if o.get("id") is not None]
        return rng.choice(options) if options else None
    if kind == "long":
        return rng.randint(1, 100)
    if kind == "double":
        return round(rng.uniform(1, 100), 2)
    if kind == "date":
        return date.today().isoformat()
    return f"load test {uuid.uuid4().hex[:8]}"


def fill(form: list[Mapping[str, Any]], rng: random.Random, *, pass_probability: float = 0.8,
         optional_fill: float = 0.7, choices: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A complete, valid submission for a task form."""
    data: dict[str, Any] = {}
    for field in form:
        if not field.get("required") and rng.random() >= optional_fill:
            continue
        value = value_for(field, rng, pass_probability, choices)
        if value is not None:
            data[field["id"]] = value
    return data


def _text(rules: Mapping[str, Any]) -> str:
    kind = rules.get("validationType")
    if kind == "email":
        return f"load.test.{uuid.uuid4().hex[:6]}@example.org"
    if kind == "phone":
        return "+44" + str(random.randint(1000000000, 9999999999))
    text = f"load test {uuid.uuid4().hex[:8]}"
    low, high = int(rules.get("minLength") or 0), rules.get("maxLength")
    text = text.ljust(max(low, len(text)), "x")
    return text[: int(high)] if high is not None else text


def _number(rules: Mapping[str, Any], rng: random.Random) -> int:
    low = int(rules["min"]) if isinstance(rules.get("min"), int | float) else 1
    high = int(rules["max"]) if isinstance(rules.get("max"), int | float) else max(low, 100)
    return rng.randint(low, max(low, high))


def camunda_value(component: Mapping[str, Any], rng: random.Random, pass_probability: float) -> Any:
    """One valid value for one form-js input component (None when none can be made up)."""
    rules = component.get("validate") or {}
    kind = component.get("type")
    options = [v.get("value") for v in component.get("values") or [] if isinstance(v, Mapping)]
    if kind == "checkbox":
        return True if rules.get("required") else rng.random() < pass_probability
    if kind == "number":
        return _number(rules, rng)
    if kind in ("select", "radio"):
        return rng.choice(options) if options else None
    if kind in ("checklist", "taglist"):
        return [rng.choice(options)] if options else None
    if kind == "datetime":
        subtype = component.get("subtype") or "datetime"
        now = datetime.now(UTC)
        return {"date": now.date().isoformat(), "time": now.strftime("%H:%M")}.get(
            subtype, now.isoformat(timespec="seconds"))
    if rules.get("pattern"):
        default = component.get("defaultValue")
        return default if isinstance(default, str) else None
    return _text(rules)


def _inputs(components: Any) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = []
    for component in components if isinstance(components, list) else []:
        if not isinstance(component, Mapping):
            continue
        if component.get("type") == "group":
            found += _inputs(component.get("components"))
        elif component.get("key") and not (component.get("disabled") or component.get("readonly")):
            found.append(component)
    return found


def fill_camunda(schema: Mapping[str, Any], rng: random.Random, *, pass_probability: float = 0.8,
                 optional_fill: float = 0.7, choices: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A complete, valid submission for a Camunda Form (a form-js schema); dotted keys nest."""
    data: dict[str, Any] = {}
    for component in _inputs(schema.get("components")):
        key = str(component["key"])
        if not (component.get("validate") or {}).get("required") and rng.random() >= optional_fill:
            continue
        if choices and key in choices:
            value = _chosen(choices[key], {"type": "boolean" if component.get("type") == "checkbox" else ""}, rng)
        else:
            value = camunda_value(component, rng, pass_probability)
        if value is None:
            continue
        *path, last = key.split(".")
        node = data
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return data


def fill_task(task: Mapping[str, Any], rng: random.Random, **options: Any) -> dict[str, Any]:
    """A valid submission for a task as GET /tasks/{id} shows it: its Camunda Form, else its generated form."""
    camunda = task.get("camunda_form")
    if isinstance(camunda, Mapping) and isinstance(camunda.get("schema"), Mapping):
        return fill_camunda(camunda["schema"], rng, **options)
    return fill(task.get("form") or [], rng, **options)
