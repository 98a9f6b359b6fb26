"""Repeating timers (`timeCycle` as ISO 8601 `R<n>/...`): how often they fire and at what interval.

A cycle's firings are not rework: they count against the cycle's own `R<n>` (or CYCLE_CAP when it repeats
without end), not the loop cap. A cycle of zero or sub-second interval can never be served, so the upload
refuses it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

_LITERAL = re.compile(r"^R\d*/\S+$", re.IGNORECASE)


@dataclass(frozen=True)
class Cycle:
    """`repeats` None means without end (`R/...`)."""

    repeats: int | None
    interval: timedelta


def parse_cycle(expression: str) -> Cycle | None:
    """The cycle of a literal ISO 8601 repeating interval; None for an expression or a cron text (decided at
    run time) and for text that is not a repeating interval."""
    text = expression.strip().strip("'\"").strip()
    if not _LITERAL.match(text):
        return None
    try:
        cycles, _start, duration = TimerEventDefinition.parse_iso_recurring_interval(text)
    except Exception:  # noqa: BLE001 - SpiffWorkflow raises bare Exception for a bad interval
        return None
    return Cycle(None if cycles < 0 else int(cycles), duration)
