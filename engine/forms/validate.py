"""Validate a task submission against a Camunda form (form-js rules), with one problem per bad field."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from engine.bpmn.forms import INVALID_DETAIL
from engine.errors import Invalid, Problem

from .patterns import PatternError, matches
from .schema import CamundaForm

# form-js's own checks (packages/form-js-viewer/src/core/Validator.js): an e-mail and an international phone
_EMAIL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
_PHONE = re.compile(r"^\+[1-9]\d{1,14}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$")
_OPTIONS = ("select", "radio", "checklist", "taglist")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _hidden(component: dict[str, Any], data: Mapping[str, Any]) -> bool:
    """conditional.hide, a FEEL expression (`=approved = false`) over the submitted data."""
    from engine.decisions.feel import FeelError, parse_expression
    from engine.decisions.feel_eval import evaluate

    hide = (component.get("conditional") or {}).get("hide")
    if not isinstance(hide, str) or not hide.strip():
        return False
    try:
        return evaluate(parse_expression(hide.strip().removeprefix("=")), data) is True
    except FeelError:
        return False  # checked at deploy; a field we cannot judge stays visible (so it is validated)


def _type_problem(kind: str, component: dict[str, Any], value: Any) -> str | None:
    if kind in ("textfield", "textarea") and not isinstance(value, str):
        return "must be text"
    if kind == "number" and not _number(value):
        return "must be a number"
    if kind == "checkbox" and not isinstance(value, bool):
        return "must be true or false"
    if kind in ("checklist", "taglist") and not (isinstance(value, list)
                                                 and all(isinstance(v, str | int | float) for v in value)):
        return "must be a list of values"
    if kind == "datetime":
        shapes = {"date": _DATE, "time": _TIME}.get(component.get("subtype") or "datetime", _DATETIME)
        if not isinstance(value, str) or not shapes.match(value):
            return f"must be a {component.get('subtype') or 'datetime'} in ISO 8601"
    if kind in _OPTIONS and isinstance(component.get("values"), list):
        allowed = [v.get("value") for v in component["values"] if isinstance(v, dict)]
        chosen = value if isinstance(value, list) else [value]
        wrong = [v for v in chosen if v not in allowed]
        if wrong:
            return f"{wrong[0]!r} is not one of {', '.join(map(repr, allowed))}"
    return None


def _rule_problem(component: dict[str, Any], value: Any) -> str | None:
    rules = component.get("validate") or {}
    if isinstance(value, str):
        length = len(value.strip())
        if "minLength" in rules and length < rules["minLength"]:
            return f"must be at least {rules['minLength']} characters"
        if "maxLength" in rules and length > rules["maxLength"]:
            return f"must be at most {rules['maxLength']} characters"
        try:
            if rules.get("pattern") and not matches(rules["pattern"], value):
                return rules.get("patternErrorMessage") or f"must match the pattern {rules['pattern']}"
        except PatternError:
            return "cannot be checked against its pattern"
        kind = rules.get("validationType")
        if kind == "email" and value and not _EMAIL.match(value):
            return "must be an e-mail address"
        if kind == "phone" and value and not _PHONE.match(value):
            return "must be a phone number in international format (+44...)"
    if _number(value):
        if "min" in rules and value < rules["min"]:
            return f"must be at least {rules['min']}"
        if "max" in rules and value > rules["max"]:
            return f"must be at most {rules['max']}"
    return None


def _empty(kind: str, value: Any) -> bool:
    return value is None or value == "" or value == [] or (kind == "checkbox" and value is False)


def _put(result: dict[str, Any], key: str, value: Any) -> None:
    *path, last = key.split(".")
    node = result
    for part in path:
        node = node.setdefault(part, {})
    node[last] = value


def _get(data: Mapping[str, Any], key: str) -> tuple[bool, Any]:
    node: Any = data
    if key in data:
        return True, data[key]
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def validate_camunda_submission(form: CamundaForm, data: Mapping[str, Any]) -> dict[str, Any]:
    """The submitted values the form accepts (hidden fields dropped, defaults applied), or Invalid naming
    every bad field. Keys a form does not have are refused, as for generated forms."""
    if not isinstance(data, Mapping):
        raise Invalid(INVALID_DETAIL, [Problem(message="the submitted data must be a JSON object")])
    keys = {c["key"] for c in form.fields}
    tops = {k.split(".")[0] for k in keys}
    problems = [Problem(field=str(k), message=f"unknown field '{k}'; this form has: {', '.join(sorted(keys))}")
                for k in data if k not in keys and k not in tops]
    result: dict[str, Any] = {}
    for component in form.fields:
        key, kind = component["key"], component["type"]
        if component.get("disabled") or component.get("readonly") or _hidden(component, data):
            continue
        present, value = _get(data, key)
        if not present and "defaultValue" in component:
            present, value = True, component["defaultValue"]
        if _empty(kind, value):
            if (component.get("validate") or {}).get("required"):
                problems.append(Problem(field=key, message=f"field '{key}' is required"))
            elif present:
                _put(result, key, value)
            continue
        why = _type_problem(kind, component, value) or _rule_problem(component, value)
        if why:
            problems.append(Problem(field=key, message=f"field '{key}' {why}"))
        else:
            _put(result, key, value)
    if problems:
        raise Invalid(INVALID_DETAIL, problems)
    return result
