"""Read an uploaded `.form` (form-js JSON schema) into a checked, JSON-ready form, or a list of problems."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from engine.errors import Invalid, Problem

MAX_FORM_BYTES = 512 * 1024
MAX_COMPONENTS = 500
MAX_DEPTH = 8
INPUT_TYPES = frozenset({"textfield", "textarea", "number", "checkbox", "checklist", "radio", "select",
                         "taglist", "datetime"})
LAYOUT_TYPES = frozenset({"text", "group", "button", "spacer", "separator", "html"})
VALIDATE_KEYS = frozenset({"required", "min", "max", "minLength", "maxLength", "pattern", "validationType",
                           "patternErrorMessage"})
MAX_PATTERN = 500


@dataclass(frozen=True)
class CamundaForm:
    """A checked form: its id (the key formRef names), the schema as uploaded, and its input fields."""

    key: str
    schema: dict[str, Any]
    fields: tuple[dict[str, Any], ...]


def _bad(message: str, where: str | None = None) -> Problem:
    return Problem(message=message, element_id=where, rule="form.schema")


def _check_validate(component: dict[str, Any], where: str, problems: list[Problem]) -> None:
    rules = component.get("validate")
    if rules is None:
        return
    if not isinstance(rules, dict):
        problems.append(_bad(f"component {where}: validate must be an object", where))
        return
    for name, value in rules.items():
        if name not in VALIDATE_KEYS:
            problems.append(_bad(f"component {where}: validate.{name} is not supported (supported: "
                                 f"{', '.join(sorted(VALIDATE_KEYS))})", where))
        elif name in ("min", "max", "minLength", "maxLength") and isinstance(value, str) and value.startswith("="):
            problems.append(_bad(f"component {where}: a FEEL-valued validate.{name} is not supported; give a "
                                 "number", where))
        elif name in ("min", "max", "minLength", "maxLength") and not (
                isinstance(value, int | float) and not isinstance(value, bool)):
            problems.append(_bad(f"component {where}: validate.{name} must be a number", where))
        elif name == "pattern":
            from .patterns import PatternError, compile_pattern

            try:
                compile_pattern(value)
            except PatternError as err:
                problems.append(_bad(f"component {where}: validate.pattern {err}", where))
        elif name == "validationType" and value not in ("email", "phone", "custom", "", None):
            problems.append(_bad(f"component {where}: validate.validationType '{value}' is not supported "
                                 "(email, phone)", where))


def _check_component(component: Any, depth: int, keys: dict[str, str], fields: list[dict[str, Any]],
                     problems: list[Problem]) -> None:
    if not isinstance(component, dict):
        problems.append(_bad("every component must be a JSON object"))
        return
    kind = component.get("type")
    where = str(component.get("id") or component.get("key") or kind or "?")
    if kind not in INPUT_TYPES and kind not in LAYOUT_TYPES:
        problems.append(_bad(f"component {where} has type '{kind}', which is not supported (supported: "
                             f"{', '.join(sorted(INPUT_TYPES | LAYOUT_TYPES))})", where))
        return
    hide = component.get("conditional", {}).get("hide") if isinstance(component.get("conditional"), dict) \
        else None
    if hide is not None and not isinstance(hide, str):
        problems.append(_bad(f"component {where}: conditional.hide must be a FEEL expression string", where))
    elif isinstance(hide, str) and hide.strip():
        from engine.decisions.feel import FeelError, parse_expression

        try:
            parse_expression(hide.strip().removeprefix("="))
        except FeelError as err:
            problems.append(_bad(f"component {where}: conditional.hide ({hide[:60]}): {err}", where))
    if kind == "group":
        children = component.get("components", [])
        if not isinstance(children, list):
            problems.append(_bad(f"group {where}: components must be a list", where))
        elif depth >= MAX_DEPTH:
            problems.append(_bad(f"group {where} is nested more than {MAX_DEPTH} deep", where))
        else:
            for child in children:
                _check_component(child, depth + 1, keys, fields, problems)
        return
    if kind not in INPUT_TYPES:
        return
    key = component.get("key")
    if not isinstance(key, str) or not key.strip() or not all(p.isidentifier() for p in key.split(".")):
        problems.append(_bad(f"component {where} ({kind}) needs a key made of names separated by dots "
                             f"(got {key!r})", where))
        return
    if key in keys:
        problems.append(_bad(f"components {keys[key]} and {where} both bind the key '{key}'", where))
        return
    keys[key] = where
    values = component.get("values")
    if values is not None and (not isinstance(values, list)
                               or not all(isinstance(v, dict) and "value" in v for v in values)):
        problems.append(_bad(f"component {where}: values must be a list of {{label, value}} objects", where))
    if component.get("valuesExpression") is not None:
        problems.append(_bad(f"component {where}: valuesExpression (FEEL options) is not supported; use "
                             "values or valuesKey", where))
    _check_validate(component, where, problems)
    fields.append(component)


def read_form(data: bytes) -> CamundaForm:
    """Parse and check a `.form` file; Invalid (one Problem per thing wrong) if it is not a usable form."""
    if len(data) > MAX_FORM_BYTES:
        raise Invalid("the form is too large", [Problem(message=f"a .form is at most {MAX_FORM_BYTES} bytes",
                                                        rule="form.size")])
    try:
        schema = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise Invalid("the form is not UTF-8 JSON", [Problem(message="a .form file is UTF-8 JSON",
                                                             rule="form.json")]) from None
    except json.JSONDecodeError as exc:
        raise Invalid("the form is not JSON", [Problem(message=f"not JSON: {exc.msg}", line=exc.lineno,
                                                       column=exc.colno, rule="form.json")]) from None
    except RecursionError:
        raise Invalid("the form is nested too deeply", [_bad("the JSON is nested too deeply")]) from None
    if not isinstance(schema, dict) or not isinstance(schema.get("components"), list):
        raise Invalid("not a form", [_bad("not a Camunda form: expected a JSON object with a `components` list "
                                          "(a form-js schema, as Camunda Modeler saves it)")])
    key = schema.get("id")
    problems: list[Problem] = []
    if not isinstance(key, str) or not key.strip():
        problems.append(_bad("the form has no `id`: formRef names a form by its id"))
    if schema.get("type", "default") != "default":
        problems.append(_bad(f"form type '{schema.get('type')}' is not supported (only 'default')"))
    count = sum(1 for _ in _walk(schema["components"], 0))
    if count > MAX_COMPONENTS:
        problems.append(_bad(f"the form has {count} components; the limit is {MAX_COMPONENTS}"))
    fields: list[dict[str, Any]] = []
    if not problems:
        keys: dict[str, str] = {}
        for component in schema["components"]:
            _check_component(component, 0, keys, fields, problems)
    if problems:
        raise Invalid(f"the form {key if isinstance(key, str) else ''} cannot be used".replace("  ", " "),
                      problems[:50])
    assert isinstance(key, str)
    return CamundaForm(key=key.strip(), schema=schema, fields=tuple(fields))


def _walk(components: Any, depth: int) -> Any:
    if not isinstance(components, list) or depth > MAX_DEPTH + 1:
        return
    for component in components:
        yield component
        if isinstance(component, dict):
            yield from _walk(component.get("components"), depth + 1)
