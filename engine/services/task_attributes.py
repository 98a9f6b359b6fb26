"""A user task's due date, follow-up date and priority (camunda:dueDate, followUpDate, priority) when it opens.

Each is a constant or a `${...}` expression over the task's data. A date is an ISO 8601 date-time (naive
means UTC) or, as a convenience, an ISO 8601 duration counted from the moment the task opens (`PT4H`);
an expression may give either, or a datetime. A priority is a whole number, 50 when the model says
nothing (Camunda's default); higher comes first in a queue sorted by priority. An expression that cannot
be worked out (an unknown name) leaves the date unset or the priority at its default, the way candidate
expressions leave a task unoffered; upload already refused anything that is not a valid constant or
expression (engine.bpmn.parser).
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from engine.calendar import parse_duration

DEFAULT_PRIORITY = 50
PRIORITY_RANGE = (-(2**31), 2**31 - 1)  # a 32-bit integer, as Camunda's (and the tasks.priority column)


def constant_problem(raw: str, kind: str) -> str | None:
    """Why a constant (not `${...}`) value is refused at upload, or None when it is fine."""
    if raw.startswith(("${", "#{")):
        return None
    if kind == "priority":
        try:
            value = int(raw)
        except ValueError:
            return "is neither a whole number nor a ${...} expression"
        low, high = PRIORITY_RANGE
        return None if low <= value <= high else f"is outside {low}..{high}"
    if _moment(raw, datetime(2026, 1, 1, tzinfo=UTC)) is None:
        return "is neither an ISO 8601 date-time (2026-03-01T09:00:00Z) nor a duration (PT4H) nor a ${...} expression"
    return None


def _value(raw: str, data: Mapping[str, Any]) -> Any:
    if not raw.startswith(("${", "#{")):
        return raw
    from engine.expressions import ExpressionError, compile_expression

    try:
        return compile_expression(raw).evaluate(data, missing_as_none=True)
    except ExpressionError:
        return None


def _moment(value: Any, opened: datetime) -> datetime | None:
    try:
        found = _parsed(value, opened)
        return found.astimezone(UTC) if found is not None else None
    except (OverflowError, ValueError):  # 0001-01-01T00:00+01:00 has no UTC time
        return None


def _parsed(value: Any, opened: datetime) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text[:1] in "Pp":
        try:
            return parse_duration(text, opened)
        except ValueError:
            return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def moment(raw: str | None, data: Mapping[str, Any], opened: datetime) -> datetime | None:
    """The due or follow-up moment of a task opening at `opened`, or None."""
    return _moment(_value(raw, data), opened) if raw else None


def priority(raw: str | None, data: Mapping[str, Any]) -> int:
    """The priority, held to PRIORITY_RANGE (an expression may give any whole number)."""
    low, high = PRIORITY_RANGE
    return max(low, min(high, _priority(raw, data)))


def _priority(raw: str | None, data: Mapping[str, Any]) -> int:
    if not raw:
        return DEFAULT_PRIORITY
    value = _value(raw, data)
    if isinstance(value, bool):
        return DEFAULT_PRIORITY
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        return DEFAULT_PRIORITY
