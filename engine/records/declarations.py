"""What a procedure declares about personal data: which variables are personal, whose they are (the data
subject's identifier), and how long they are kept after the incident ends.

Declared by process-level properties (`personal_data` = comma-separated names, `data_subject` = the
variable holding the subject's identifier, `retention` = ISO 8601 duration such as P2Y) and by a form
field property `personal` = true.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine.bpmn.model import ProcedureDefinition
from engine.calendar import parse_duration

PERSONAL_PROPERTY = "personal_data"
SUBJECT_PROPERTY = "data_subject"
RETENTION_PROPERTY = "retention"
FIELD_PROPERTY = "personal"
# What the workflow, incident data, task data, audit data, outbox payloads and debriefs hold in place of
# a personal value; the value itself is only in the personal-data store (and the audit row's payload).
MARKER = "[personal]"
ERASED = "[erased]"
# Form field ids that look like personal data (the lint warns when one is not declared).
LOOKS_PERSONAL = re.compile(r"(^|_)(name|names|first_?name|surname|phone|mobile|telephone|email|e_?mail|address|"
                            r"postcode|post_code|dob|date_of_birth|birth_?date|account|account_number)($|_)",
                            re.IGNORECASE)


@dataclass(frozen=True)
class PersonalData:
    names: frozenset[str]
    subject: str | None
    retention: str | None  # ISO 8601 duration, as declared
    retention_error: str | None = None

    def retain_until(self, ended_at: datetime, default: str) -> datetime:
        """When the personal data of an incident that ended at `ended_at` is due for erasure."""
        text = self.retention if self.retention and not self.retention_error else default
        return parse_duration(text, ended_at.astimezone(UTC))


_CACHE: dict[int, tuple[ProcedureDefinition, PersonalData]] = {}


def _split(raw: str | None) -> list[str]:
    return [item.strip() for item in (raw or "").split(",") if item.strip()]


def declared(definition: ProcedureDefinition) -> PersonalData:
    """The declaration of `definition` (computed once per parsed definition)."""
    cached = _CACHE.get(id(definition))
    if cached is not None and cached[0] is definition:
        return cached[1]
    props = definition.process_properties
    names = set(_split(props.get(PERSONAL_PROPERTY)))
    for task in definition.user_tasks:
        names.update(f.id for f in task.form if f.personal)
    retention = (props.get(RETENTION_PROPERTY) or "").strip() or None
    error = None
    if retention:
        try:
            parse_duration(retention, datetime(2000, 1, 1, tzinfo=UTC))
        except ValueError as err:
            error = str(err)
    decl = PersonalData(frozenset(names), (props.get(SUBJECT_PROPERTY) or "").strip() or None, retention, error)
    if len(_CACHE) > 512:
        _CACHE.clear()
    _CACHE[id(definition)] = (definition, decl)
    return decl


def sift(values: Mapping[str, Any] | None, names: frozenset[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(values with each personal one replaced by the marker, the personal values) — a value already a
    marker (or the erased marker) is not personal data any more and stays as it is."""
    kept = dict(values or {})
    personal = {}
    if names:
        for name in names & kept.keys():
            value = kept[name]
            if value is None or value in (MARKER, ERASED):
                continue
            personal[name] = value
            kept[name] = MARKER
    return kept, personal


def mark_erased(value: Any, names: frozenset[str]) -> Any:
    """`value` (any JSON) with the marker of each erased name read as erased, wherever a dict holds it."""
    if isinstance(value, dict):
        return {k: (ERASED if k in names and v == MARKER else mark_erased(v, names)) for k, v in value.items()}
    if isinstance(value, list):
        return [mark_erased(v, names) for v in value]
    return value


def refuse_markers(definition: ProcedureDefinition, values: Mapping[str, Any]) -> None:
    """A personal field submitted as a marker (say, "[erased]" echoed back after an erasure) is refused:
    the form asks for the value itself again."""
    from engine.errors import Invalid, Problem

    names = declared(definition).names
    echoed = sorted(n for n in names & values.keys() if values[n] in (MARKER, ERASED))
    if echoed:
        raise Invalid("a personal value must be given again, not its marker",
                      [Problem(f"give the value of '{n}' (it was erased or is held apart)", field=n) for n in echoed])


def resolve(values: Mapping[str, Any], stored: Mapping[str, Any]) -> dict[str, Any]:
    """`values` with each marker replaced by the stored personal value (or the erased marker)."""
    def held(name: str) -> Any:
        value = stored.get(name)
        return ERASED if value is None else value

    return {k: (held(k) if v == MARKER else v) for k, v in values.items()}


def subject_key(key: bytes, identifier: str) -> str:
    """The keyed hash a data subject's identifier is stored as: requests find their incidents by it, and
    nothing stored says who the subject was once their data is erased."""
    import hashlib
    import hmac

    return hmac.new(key, b"subject\x00" + identifier.strip().encode(), hashlib.sha256).hexdigest()
