"""The SQL pieces every metrics query shares: the window, its scope (version, incident data filter), seconds.

Durations are reduced to seconds inside the database (one float per row travels), the same way on
PostgreSQL (`extract(epoch ...)`) and SQLite (`julianday` differences); percentiles are then taken in
Python with one definition (engine.monitoring.stats).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, cast, false, func
from sqlalchemy.types import Float

from engine.db.tables import incidents


@dataclass(frozen=True)
class Window:
    """A procedure (None: every procedure), a half-open time window [since, until), optionally one version and an incident filter.

    `filter` compares keys of the incident's data (its case file, e.g. {"priority": "P1"}) as text.
    """

    procedure: str | None
    since: datetime
    until: datetime
    version: int | None = None
    filter: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {"procedure": self.procedure, "since": self.since, "until": self.until,
                "version": self.version, "filter": dict(self.filter)}


def seconds(conn: Connection, later: Any, earlier: Any) -> ColumnElement[float]:
    """`later - earlier` in seconds, as a float column expression, for the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return cast(func.extract("epoch", later - earlier), Float)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def scoped(query: Select[Any], window: Window, *, incident_id: Any = None, version: Any = None,
           procedure: Any = None) -> Select[Any]:
    """Restrict `query` to live incidents and the window's procedure, version and incident filter.

    `incident_id`/`version`/`procedure` are the columns of the queried table (or subquery), which also
    has the `test` flag of each row's incident: test incidents are never counted. When the filter needs
    the incident's data, or the table has no version column, the incidents table is joined on `incident_id`.
    """
    joined = incident_id is not None and incident_id is not incidents.c.id and \
        (bool(window.filter) or (window.version is not None and version is None))
    if joined:
        query = query.join(incidents, incidents.c.id == incident_id)
    if incident_id is not None:
        query = query.where(incident_id.table.c.test == false())
    if procedure is not None and window.procedure is not None:
        query = query.where(procedure == window.procedure)
    if window.version is not None:
        query = query.where((version if version is not None else incidents.c.procedure_version)
                            == window.version)
    for key, value in window.filter.items():
        query = query.where(incidents.c.data[str(key)].as_string() == str(value))
    return query


def rows(conn: Connection, query: Select[Any]) -> list[Any]:
    return list(conn.execute(query).all())
