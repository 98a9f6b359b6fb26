"""Hot statements compiled once and sent straight through psycopg on PostgreSQL (SQLAlchemy elsewhere).

A profile of the server put about a quarter of its Python time in SQLAlchemy's per-execute work
(execution context, parameter processing, result set-up), even for statements built once. A `Prebuilt`
keeps SQLAlchemy's own compiled SQL (the same text, so psycopg keeps it prepared), its bind processors
(timestamps to UTC, JSON wrapped for jsonb) and its result processors, and runs them on the DBAPI
connection of the caller's SQLAlchemy connection, inside its transaction; `before_cursor_execute`
listeners see each statement as usual (not `after_cursor_execute`: engine.db.pipeline's own waits for it
are not needed for these). Database errors are raised as
SQLAlchemy raises them (`sqlalchemy.exc.DBAPIError` subclasses), and a connection psycopg reports broken
is invalidated so the pool never hands it out again. On SQLite, and for several parameter sets at once,
the statement simply goes through SQLAlchemy.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import Connection, exc

Processor = Callable[[Any], Any]
_READS = ("SELECT", "WITH", "SHOW", "VALUES")


@dataclass(frozen=True)
class _Compiled:
    sql: str
    defaults: dict[str, Any]  # every bind of the statement, with its constant value (None when given per call)
    binds: tuple[tuple[str, Processor], ...]  # bind processors of the given parameters
    reads: bool  # the same test as engine.db.database's guard on read-only units of work


class Prebuilt:
    """One SQLAlchemy Core statement whose PostgreSQL form is compiled once per set of parameter names."""

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._compiled: dict[frozenset[str], _Compiled] = {}
        self._results: dict[tuple[Any, ...], tuple[list[str], list[Processor | None]]] = {}

    def compiled(self, conn: Connection, keys: frozenset[str]) -> _Compiled | None:
        found = self._compiled.get(keys)
        if found is None:
            compiled = self.statement.compile(dialect=conn.dialect, column_keys=sorted(keys))
            if compiled.positiontup is not None or compiled.post_compile_params or compiled.literal_execute_params \
                    or compiled.insert_prefetch or compiled.update_prefetch or not keys <= compiled.binds.keys():
                # not a plain named-parameter statement (an expanding IN), or a column default SQLAlchemy
                # computes per execution: SQLAlchemy's own path
                return None
            processors = compiled._bind_processors
            found = _Compiled(compiled.string, compiled.construct_params(_check=False),
                              tuple((k, processors[k]) for k in keys if k in processors),
                              compiled.string.lstrip()[:6].upper().startswith(_READS))
            self._compiled[keys] = found
        return found

    def results(self, description: Any, conn: Connection) -> tuple[list[str], list[Processor | None]]:
        """Column names and result processors for the cursor's columns (type codes as psycopg gave them)."""
        codes = tuple(column.type_code for column in description)
        found = self._results.get(codes)
        if found is None:
            columns = self.statement.compile(dialect=conn.dialect)._result_columns
            found = ([c.keyname for c in columns],
                     [c.type._cached_result_processor(conn.dialect, code) for c, code in zip(columns, codes, strict=True)])
            self._results[codes] = found
        return found


def fast(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def send(conn: Connection, prebuilt: Prebuilt, params: Mapping[str, Any]) -> Any | None:
    """Execute on psycopg and return the cursor; None when this statement must go through SQLAlchemy."""
    compiled = prebuilt.compiled(conn, frozenset(params))
    if compiled is None:
        return None
    if conn.info.get("write") is False and not compiled.reads:
        from .database import WriteInReadOnlyUnit

        raise WriteInReadOnlyUnit(f"a read-only unit of work tried to write: {compiled.sql[:80]!r}")
    values = {**compiled.defaults, **params}
    for key, process in compiled.binds:
        values[key] = process(values[key])
    fairy = conn.connection
    raw = fairy.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    if conn._has_events or conn.engine._has_events:  # listeners see it as they see SQLAlchemy's own statements
        for listener in conn.dispatch.before_cursor_execute:
            listener(conn, cursor, compiled.sql, values, None, False)
    try:
        cursor.execute(compiled.sql, values)
    except psycopg.Error as err:
        if raw.broken or raw.closed:
            conn.invalidate(err)
        raise exc.DBAPIError.instance(compiled.sql, values, err, psycopg.Error) from err
    return cursor


def mappings(conn: Connection, prebuilt: Prebuilt, params: Mapping[str, Any],
             sync: Callable[[], None] | None = None) -> list[dict[str, Any]]:
    """The rows of a SELECT as dicts (what `conn.execute(...).mappings()` gives); `sync` first brings back
    a pipeline's results (engine.db.pipeline)."""
    if not fast(conn):
        return [dict(r) for r in conn.execute(prebuilt.statement, dict(params)).mappings()]
    cursor = send(conn, prebuilt, params)
    if cursor is None:
        return [dict(r) for r in conn.execute(prebuilt.statement, dict(params)).mappings()]
    try:
        if sync is not None:
            sync()
        fetched = cursor.fetchall()
        names, processors = prebuilt.results(cursor.description, conn)
    except psycopg.Error as err:
        raw = conn.connection.dbapi_connection
        if raw is not None and (raw.broken or raw.closed):
            conn.invalidate(err)
        raise exc.DBAPIError.instance(str(prebuilt.statement), dict(params), err, psycopg.Error) from err
    finally:
        cursor.close()
    if not any(processors):
        return [dict(zip(names, row, strict=True)) for row in fetched]
    return [{name: (value if process is None else process(value))
             for name, value, process in zip(names, row, processors, strict=True)} for row in fetched]
