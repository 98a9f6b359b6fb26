"""Summaries (count, p50, p90, p95, mean, max) of durations grouped by key, aggregated where the data lives.

On PostgreSQL the database does it (`percentile_cont`, `avg`, `max` per group: a few rows travel); on SQLite
the seconds are fetched and summarised in Python with engine.monitoring.stats, whose percentile is
`percentile_cont`'s definition, so both give the same figures.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Select, func, select
from sqlalchemy.dialects.postgresql import array

from .stats import summary

Extra = Callable[[Any], Any]
_FRACTIONS = (0.5, 0.9, 0.95)


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


def grouped(conn: Connection, source: Select[Any], keys: int, values: int, extras: Sequence[Extra] = ()
            ) -> dict[tuple[Any, ...], tuple[list[dict[str, Any]], list[Any]]]:
    """key -> (one summary per value column, the extra aggregates) for `source`, which selects `keys` key
    columns, then `values` value columns (seconds, NULL skipped), then any columns `extras` aggregate
    (each extra gets the subquery and returns an aggregate expression)."""
    sub = source.subquery()
    columns = list(sub.c)
    key_cols, value_cols = columns[:keys], columns[keys:keys + values]
    extra_aggs = [extra(sub) for extra in extras]
    found: dict[tuple[Any, ...], tuple[list[dict[str, Any]], list[Any]]] = {}
    if conn.dialect.name == "postgresql":
        aggs = []
        for col in value_cols:  # one sort per column: percentile_cont over an array of fractions
            aggs += [func.count(col), func.percentile_cont(array(_FRACTIONS)).within_group(col),
                     func.avg(col), func.max(col)]
        for row in conn.execute(select(*key_cols, *aggs, *extra_aggs).group_by(*key_cols)).all():
            key, rest = tuple(row[:keys]), list(row[keys:])
            stats = []
            for n in range(values):
                count, fractions, mean, top = rest[n * 4:(n + 1) * 4]
                p50, p90, p95 = fractions or (None, None, None)
                stats.append({"count": int(count), "p50": _round(p50), "p90": _round(p90), "p95": _round(p95),
                              "mean": _round(mean), "max": _round(top)})
            found[key] = (stats, rest[values * 4:])
        return found
    raw: dict[tuple[Any, ...], list[list[float | None]]] = defaultdict(lambda: [[] for _ in value_cols])
    for row in conn.execute(select(*key_cols, *value_cols)).all():
        bucket = raw[tuple(row[:keys])]
        for n, value in enumerate(row[keys:]):
            bucket[n].append(value)
    extra_rows = {tuple(r[:keys]): list(r[keys:]) for r in conn.execute(
        select(*key_cols, *extra_aggs).group_by(*key_cols)).all()} if extra_aggs else {}
    for key, lists in raw.items():
        found[key] = ([summary(values_) for values_ in lists], extra_rows.get(key, []))
    return found
