"""What a message correlation asks for, the keys a waiting incident is found by, and what the matches decide.

Camunda's semantics: a message is delivered to exactly one waiting incident (or, failing that, starts an
incident on the one procedure whose message start event has that name); none is "not found", more than
one is a conflict unless every match was asked for (`all`). A message that arrives before its incident
waits for it is not kept: Camunda refuses it too.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.errors import Invalid, Problem

MAX_NAME = 255
MAX_KEY_VALUE = 255  # longer values are not indexed, so they cannot be correlated on
MAX_KEYS_PER_WAIT = 64
MAX_VARIABLES_BYTES = 64 * 1024
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class Correlation:
    """A checked request: the message (or signal) name, the incident reference, variable equalities to
    match, variables to set, and whether every match is wanted."""

    name: str
    reference: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    all: bool = False

    def describe(self) -> str:
        """What was looked for, in words (for a 404)."""
        parts = [f"message {self.name!r}"]
        if self.reference:
            parts.append(f"reference {self.reference!r}")
        parts += [f"{name} = {json.loads(value)!r}" for name, value in self.keys.items()]
        return ", ".join(parts)


def key_value(value: Any) -> str | None:
    """The indexed form of a variable's value (its canonical JSON), or None when it cannot be a key.

    Strings, whole numbers, finite decimals and booleans are keys; null, lists, objects and strings whose
    JSON is longer than MAX_KEY_VALUE are not. Types matter, as in Camunda: "1" and 1 are different keys.
    """
    if isinstance(value, bool | int | str) or (isinstance(value, float) and math.isfinite(value)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= MAX_KEY_VALUE else None
    return None


def correlation_keys(*scopes: Mapping[str, Any]) -> dict[str, str]:
    """The keys a waiting incident is found by: every top-level variable that can be a key (later scopes
    win on a clash), at most MAX_KEYS_PER_WAIT of them, names in sorted order."""
    merged: dict[str, Any] = {}
    for scope in scopes:
        merged.update(scope)
    keys = {name: text for name, value in sorted(merged.items())
            if isinstance(name, str) and VARIABLE_NAME.match(name) and (text := key_value(value)) is not None}
    return dict(list(keys.items())[:MAX_KEYS_PER_WAIT])


def check_name(name: Any, what: str = "message") -> str:
    """A message or signal name as given: a non-empty string of at most MAX_NAME characters."""
    if not isinstance(name, str) or not name.strip():
        raise Invalid(f"the {what} needs a name", [Problem(f"a non-empty {what} name is required", field="name")])
    if len(name) > MAX_NAME:
        raise Invalid(f"the {what} name is too long",
                      [Problem(f"at most {MAX_NAME} characters (got {len(name)})", field="name")])
    return name


def check_variables(variables: Any, what: str = "variables") -> dict[str, Any]:
    """Variables to set: a JSON object whose keys are variable names, at most MAX_VARIABLES_BYTES."""
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise Invalid(f"{what} must be a JSON object", [Problem("expected an object", field=what)])
    problems = [Problem(f"{key!r} is not a valid variable name (letters, digits, _; not starting with a digit)",
                        field=f"{what}.{key}") for key in variables if not VARIABLE_NAME.match(str(key))]
    try:
        size = len(json.dumps(variables, allow_nan=False))
    except (TypeError, ValueError):
        problems.append(Problem("values must be JSON (finite numbers, strings, lists, objects)", field=what))
    else:
        if size > MAX_VARIABLES_BYTES:
            problems.append(Problem(f"larger than {MAX_VARIABLES_BYTES} bytes of JSON", field=what))
    if problems:
        raise Invalid(f"the {what} are not acceptable", problems)
    return dict(variables)


def parse(name: Any, *, reference: Any = None, correlation: Any = None, variables: Any = None,
          all: bool = False) -> Correlation:
    """Check a correlation request; Invalid (422) names every bad part."""
    name = check_name(name)
    if reference is not None and (not isinstance(reference, str) or not reference or len(reference) > MAX_NAME):
        raise Invalid("the reference is not acceptable",
                      [Problem(f"a non-empty string of at most {MAX_NAME} characters", field="reference")])
    keys: dict[str, str] = {}
    problems: list[Problem] = []
    if correlation is not None and not isinstance(correlation, dict):
        raise Invalid("the correlation must be a JSON object",
                      [Problem('expected an object of variable equalities, e.g. {"case_id": "C-77"}',
                               field="correlation")])
    for key, value in (correlation or {}).items():
        text = key_value(value)
        if not VARIABLE_NAME.match(str(key)):
            problems.append(Problem(f"{key!r} is not a variable name", field=f"correlation.{key}"))
        elif text is None:
            problems.append(Problem("a correlation value is a string (at most 253 characters), a number or a "
                                    "boolean", field=f"correlation.{key}"))
        else:
            keys[key] = text
    if len(keys) > MAX_KEYS_PER_WAIT:
        problems.append(Problem(f"at most {MAX_KEYS_PER_WAIT} correlation variables", field="correlation"))
    if problems:
        raise Invalid("the correlation is not acceptable", problems)
    return Correlation(name=name, reference=reference, keys=keys, variables=check_variables(variables), all=all)


@dataclass(frozen=True)
class Decision:
    """What a correlation does: deliver to these waits, start on these procedure versions, or refuse."""

    deliver: tuple[Any, ...] = ()
    start: tuple[Any, ...] = ()
    outcome: str = "deliver"  # deliver | start | not_found | ambiguous


def decide(waits: list[Any], starts: list[Any], *, all: bool) -> Decision:
    """Camunda's order (DefaultCorrelationHandler): waiting incidents first, and only when none waits, the
    message start events; one match delivers, several are `ambiguous`. With `all`, every waiting match gets
    the message and every procedure with that message start event starts an incident, as correlateAll does.
    """
    if all:
        return Decision(deliver=tuple(waits), start=tuple(starts),
                        outcome="deliver" if waits else "start" if starts else "not_found")
    if waits:
        return Decision(deliver=tuple(waits), outcome="ambiguous" if len(waits) > 1 else "deliver")
    if starts:
        return Decision(start=tuple(starts), outcome="ambiguous" if len(starts) > 1 else "start")
    return Decision(outcome="not_found")
