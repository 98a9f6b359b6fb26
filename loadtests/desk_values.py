"""What a simulated agent types into a task form, and the start data of a simulated incident.

Pure standard library (no locust import), so the rules are unit-tested without gevent. Values follow the
form's field types, so every submission is valid: enum = one of its options, boolean = True with the
pass probability (check gateways pass or fail, so rework loops and escalations happen), long = a small
int, double = a small number, date = today, string = text. Required fields are always filled; optional
ones with `optional_fill` probability. `choices` overrides a field: a number is the probability of True,
an object gives weights per option, anything else is used as the value.
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
