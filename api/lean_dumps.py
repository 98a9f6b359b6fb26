"""Hand-written dumps of the two hot responses (a completion's incident, a page of the task queue).

The same documents `IncidentSchema().dump` and `TaskPageSchema().dump` write (tests/api/test_lean_dumps.py
compares them field by field on real and edge-case views), without marshmallow's per-field machinery:
a key the view lacks is left out, None stays None, strings are `str`, integers `int`, booleans as given
(marshmallow 4's Boolean writes the value as it is), datetimes `isoformat()`, `data` a shallow copy. The
schemas stay the documentation (flask-smorest's `@blp.response` passes a returned Response through).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any


def _text(value: Any) -> Any:
    if value is None or type(value) is str:
        return value
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _integer(value: Any) -> Any:
    return value if value is None or type(value) is int else int(value)


def _when(value: Any) -> Any:
    return None if value is None else datetime.isoformat(value)


def _texts(value: Any) -> Any:
    return None if value is None else [_text(v) for v in value]


def _mapping(value: Any) -> Any:
    return None if value is None else dict(value)


def _raw(value: Any) -> Any:
    return value


def _dump(row: dict[str, Any], spec: tuple[tuple[str, Callable[[Any], Any]], ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, convert in spec:
        if key in row:
            out[key] = convert(row[key])
    return out


_OPTION = (("id", _text), ("name", _text))


def _options(value: Any) -> Any:
    return None if value is None else [_dump(o, _OPTION) for o in value]


_FORM_FIELD = (("id", _text), ("label", _text), ("type", _text), ("required", _raw), ("options", _options),
               ("default", _raw))


def _form(value: Any) -> Any:
    return None if value is None else [_dump(f, _FORM_FIELD) for f in value]


_TASK = (
    ("id", _text), ("incident_id", _text), ("procedure", _text), ("element_id", _text), ("name", _text),
    ("lane", _text), ("candidate_groups", _texts), ("candidate_users", _texts), ("assignee", _text),
    ("state", _text), ("form", _form), ("camunda_form", _mapping), ("camunda_form_error", _text),
    ("documentation", _text), ("created_at", _when), ("due_at", _when), ("follow_up_at", _when),
    ("priority", _integer), ("form_key", _text), ("claimed_at", _when), ("ended_at", _when),
    ("ended_by", _text), ("test", _raw),
)


def dump_task(task: dict[str, Any]) -> dict[str, Any]:
    """What `TaskSchema().dump(task)` gives."""
    return _dump(task, _TASK)


def _tasks(value: Any) -> Any:
    return None if value is None else [_dump(t, _TASK) for t in value]


def _dicts(value: Any) -> Any:
    return None if value is None else [dict(v) for v in value]


_INCIDENT = (
    ("id", _text), ("procedure", _text), ("version", _integer), ("reference", _text), ("status", _text),
    ("data", _mapping), ("error", _text), ("created_at", _when), ("updated_at", _when), ("ended_at", _when),
    ("created_by", _text), ("next_timer_at", _when), ("test", _raw), ("open_tasks", _tasks),
    ("parent_incident_id", _text), ("child_incidents", _dicts),
)


def dump_incident(incident: dict[str, Any]) -> dict[str, Any]:
    """What `IncidentSchema().dump(incident)` gives."""
    return _dump(incident, _INCIDENT)


_PAGE = (("next_cursor", _text), ("items", _tasks))


def dump_task_page(page: dict[str, Any]) -> dict[str, Any]:
    """What `TaskPageSchema().dump(page)` gives."""
    return _dump(page, _PAGE)
