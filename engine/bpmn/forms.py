"""Camunda task forms: read camunda:formData from BPMN, and check a completion payload against it."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from engine.bpmn.model import FORM_FIELD_TYPES, EnumOption, FormField
from engine.bpmn.support import CAMUNDA_NS, local, namespace
from engine.errors import Invalid, Problem

MAX_STRING = 10_000
MAX_FREE_FORM_BYTES = 64 * 1024
MAX_FREE_FORM_DEPTH = 20
KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_INT_RE = re.compile(r"^[+-]?\d{1,19}$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
INVALID_DETAIL = "the submitted data does not match the task's form"


def _camunda_children(el: Any, name: str) -> list[Any]:
    return [c for c in el if namespace(c) in CAMUNDA_NS and local(c) == name]


def read_form(task: Any) -> tuple[tuple[FormField, ...], list[Problem]]:
    """The camunda:formData fields of a BPMN element (camunda or legacy activiti namespace), and problems."""
    fields: list[FormField] = []
    problems: list[Problem] = []
    task_id = task.get("id")
    for ext in (c for c in task if local(c) == "extensionElements"):
        for form_data in _camunda_children(ext, "formData"):
            for xml_field in _camunda_children(form_data, "formField"):
                field, field_problems = _read_field(xml_field, task_id)
                problems.extend(field_problems)
                if field is not None:
                    fields.append(field)
    seen: set[str] = set()
    for field in fields:
        if field.id in seen:
            problems.append(Problem(message=f"form of task {task_id} declares field '{field.id}' twice",
                                    element_id=task_id, line=task.sourceline, rule="form.duplicate"))
        seen.add(field.id)
    return tuple(fields), problems


def _read_field(xml_field: Any, task_id: str | None) -> tuple[FormField | None, list[Problem]]:
    where = {"element_id": task_id, "line": xml_field.sourceline, "rule": "form.field"}
    field_id = xml_field.get("id") or ""
    if not KEY_RE.match(field_id):
        return None, [Problem(message=f"form field id '{field_id}' on task {task_id} is not a valid name "
                              "(letters, digits and _, starting with a letter or _)", **where)]
    ftype = (xml_field.get("type") or "string").strip()
    if ftype not in FORM_FIELD_TYPES:
        return None, [Problem(message=f"form field '{field_id}' on task {task_id} has type '{ftype}'; this "
                              f"engine supports: {', '.join(sorted(FORM_FIELD_TYPES))}", **where)]
    constraints: dict[str, str | None] = {}
    options: list[EnumOption] = []
    personal = False
    for child in xml_field:
        if local(child) == "properties":
            for prop in _camunda_children(child, "property"):
                if (prop.get("id") or prop.get("name")) == "personal":
                    personal = (prop.get("value") or "").strip().lower() in ("true", "yes", "1")
        elif local(child) == "validation":
            for constraint in _camunda_children(child, "constraint"):
                constraints[(constraint.get("name") or "").strip().lower()] = constraint.get("config")
        elif local(child) == "value":
            option_id = child.get("id") or ""
            options.append(EnumOption(id=option_id, name=child.get("name") or option_id))
    problems: list[Problem] = []
    if ftype == "enum" and not options:
        problems.append(Problem(message=f"enum form field '{field_id}' on task {task_id} has no values",
                                **where))

    def flag(name: str) -> bool:
        return name in constraints and (constraints[name] or "true").strip().lower() != "false"

    def number(name: str) -> float | None:
        raw = constraints.get(name)
        try:
            return float(raw) if raw is not None else None
        except ValueError:
            problems.append(Problem(message=f"constraint {name}='{raw}' on form field '{field_id}' is not a "
                                    "number", **where))
            return None

    min_length, max_length = number("minlength"), number("maxlength")
    field = FormField(id=field_id, label=xml_field.get("label") or field_id, type=ftype,
                      required=flag("required"), options=tuple(options), default=None,
                      readonly=flag("readonly"),
                      max_length=int(max_length) if max_length is not None else None,
                      min_length=int(min_length) if min_length is not None else None, minimum=number("min"),
                      maximum=number("max"), personal=personal)
    raw_default = xml_field.get("defaultValue")
    if raw_default is not None and raw_default != "":
        bad: list[Problem] = []
        value = _convert(field, raw_default, bad)
        if bad:
            problems.append(Problem(message=f"default value of form field '{field_id}' on task {task_id}: "
                                    f"{bad[0].message}", **where))
        else:
            field = replace(field, default=value)
    return field, problems


def validate_submission(form: tuple[FormField, ...], data: Mapping[str, Any]) -> dict[str, Any]:
    """Check and convert a task completion payload against the task's form.

    Returns the converted values. Raises engine.errors.Invalid listing every bad field at once.
    A form with no fields (no camunda:formData: spiff-arena JSON-schema forms, embedded HTML form keys,
    or tasks without a form) accepts any JSON object whose keys are identifiers
    (^[A-Za-z_][A-Za-z0-9_]{0,63}$) and whose values are JSON values, at most 64 kB serialized.
    """
    if not isinstance(data, Mapping):
        raise Invalid(INVALID_DETAIL, [Problem(message="the submitted data must be a JSON object")])
    if not form:
        return _free_form(data)
    problems: list[Problem] = []
    by_id = {f.id: f for f in form}
    for key in data:
        if key not in by_id:
            problems.append(Problem(field=str(key), message=f"unknown field '{key}'; this form has: "
                                    f"{', '.join(by_id)}"))
    result: dict[str, Any] = {}
    for field in form:
        submitted = field.id in data and data[field.id] is not None
        if submitted and field.readonly:
            problems.append(Problem(field=field.id, message=f"field '{field.id}' is read-only"))
        elif submitted:
            value = _convert(field, data[field.id], problems)
            if value is not None:
                result[field.id] = value
        elif field.default is not None:  # left out: its defaultValue, as Camunda's form handling does
            result[field.id] = field.default
        elif field.required:
            problems.append(Problem(field=field.id, message=f"field '{field.id}' is required"))
    if problems:
        raise Invalid(INVALID_DETAIL, problems)
    return result


def _convert(field: FormField, value: Any, problems: list[Problem]) -> Any:
    """The value converted to the field's type, or None after appending a Problem."""

    def bad(message: str) -> None:
        problems.append(Problem(field=field.id, message=message))

    name, ftype = field.id, field.type
    if ftype == "string":
        if not isinstance(value, str):
            return bad(f"field '{name}' must be a string")
        limit = min(field.max_length, MAX_STRING) if field.max_length is not None else MAX_STRING
        if len(value) > limit:
            return bad(f"field '{name}' is longer than {limit} characters")
        if field.min_length is not None and len(value) < field.min_length:
            return bad(f"field '{name}' must be at least {field.min_length} characters long")
        return value
    if ftype == "enum":
        if not isinstance(value, str) or value not in field.option_ids:
            return bad(f"field '{name}' must be one of: {', '.join(field.option_ids)} (got {value!r})")
        return value
    if ftype == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        return bad(f"field '{name}' must be true or false")
    if ftype == "date":
        return _date(value, name, bad)
    number = _number(value, integer=ftype == "long")
    if number is None:
        kind = "a whole number" if ftype == "long" else "a number"
        return bad(f"field '{name}' must be {kind} (got {value!r})")
    if field.minimum is not None and number < field.minimum:
        return bad(f"field '{name}' must be at least {field.minimum:g}")
    if field.maximum is not None and number > field.maximum:
        return bad(f"field '{name}' must be at most {field.maximum:g}")
    return number


def _number(value: Any, *, integer: bool) -> int | float | None:
    if isinstance(value, bool):
        return None
    if integer:
        if isinstance(value, str) and _INT_RE.match(value.strip()):
            value = int(value.strip())
        return value if isinstance(value, int) and _LONG_MIN <= value <= _LONG_MAX else None
    if isinstance(value, int):
        return float(value)
    if isinstance(value, str) and len(value) <= 64:
        try:
            value = float(value.strip())
        except ValueError:
            return None
    return value if isinstance(value, float) and math.isfinite(value) else None


def _date(value: Any, name: str, bad: Any) -> str | None:
    message = f"field '{name}' must be an ISO 8601 date (YYYY-MM-DD) or date-time"
    if not isinstance(value, str) or len(value) > 40:
        return bad(message)
    text = value.strip()
    try:
        if _DATE_RE.match(text):
            return date.fromisoformat(text).isoformat()
        if len(text) < 16 or text[10] not in "Tt ":
            return bad(message)
        moment = datetime.fromisoformat(text[:10] + "T" + text[11:].replace("z", "Z"))
    except ValueError:
        return bad(message)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def _free_form(data: Mapping[str, Any]) -> dict[str, Any]:
    problems = [Problem(field=str(k), message=f"'{k}' is not a valid field name (letters, digits and _, "
                        "starting with a letter or _, at most 64 characters)")
                for k in data if not isinstance(k, str) or not KEY_RE.match(k)]
    for key, value in data.items():
        reason = _json_problem(value, 0)
        if reason:
            problems.append(Problem(field=str(key), message=f"field '{key}': {reason}"))
    if not problems:
        try:
            size = len(json.dumps(dict(data), allow_nan=False).encode())
        except (ValueError, TypeError, RecursionError) as exc:
            problem = Problem(message=f"the submitted data is not JSON: {exc}")
            raise Invalid(INVALID_DETAIL, [problem]) from None
        if size > MAX_FREE_FORM_BYTES:
            problems.append(Problem(message=f"the submitted data is {size} bytes of JSON; the limit is "
                                    f"{MAX_FREE_FORM_BYTES}"))
    if problems:
        raise Invalid(INVALID_DETAIL, problems)
    return dict(data)


def _json_problem(value: Any, depth: int) -> str | None:
    if depth > MAX_FREE_FORM_DEPTH:
        return f"nested deeper than {MAX_FREE_FORM_DEPTH} levels"
    if value is None or isinstance(value, bool | int | str):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else "numbers must be finite"
    if isinstance(value, list | tuple):
        return next((r for r in (_json_problem(v, depth + 1) for v in value) if r), None)
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            return "object keys must be strings"
        return next((r for r in (_json_problem(v, depth + 1) for v in value.values()) if r), None)
    return f"a {type(value).__name__} is not a JSON value"
