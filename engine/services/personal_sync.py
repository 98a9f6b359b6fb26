"""Keeping a transition's personal values in the personal-data store, and linking the incident to its subject."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from engine.db import personal_rows
from engine.records import keys
from engine.records.declarations import ERASED, MARKER, declared, subject_key
from engine.runtime.runner import Outcome

from .recording import Step


def keep_personal(conn: Connection, step: Step, outcomes: Sequence[Outcome]) -> None:
    """Write the values the workflow got markers for; link the subject when its identifier came in."""
    decl = declared(step.runtime.definition)
    if not (decl.names or decl.subject):
        return
    personal: dict[str, Any] = {}
    for outcome in outcomes:
        personal.update(outcome.personal)
    if personal:
        personal_rows.keep(conn, step.incident["id"], personal, step.at)
    if decl.subject:
        identifier = personal.get(decl.subject, outcomes[0].written.get(decl.subject) if outcomes else None)
        if isinstance(identifier, str | int) and not isinstance(identifier, bool) \
                and str(identifier).strip() and identifier not in (MARKER, ERASED):
            personal_rows.link_subject(conn, step.incident["id"],
                                       subject_key(keys.for_connection(conn), str(identifier)), step.at)
