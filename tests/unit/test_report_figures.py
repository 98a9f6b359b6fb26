"""Figures for people on the report page: sub-second durations in milliseconds (never "0s"), and tasks
without any figure named on one line instead of a chart of "n/a" bars (issue 10, part 7)."""
from __future__ import annotations

from typing import Any

import pytest

from api.report_charts import task_chart, tasks_without_data
from engine.monitoring.stats import human


@pytest.mark.parametrize("seconds, text", [
    (None, "n/a"), (0, "0 ms"), (0.0002, "<1 ms"), (0.0123, "12 ms"), (0.42, "420 ms"), (0.9994, "999 ms"),
    (0.9996, "1s"), (12.4, "12s"), (250, "4m 10s"), (3900, "1h 5m"), (183600, "2d 3h"),
])
def test_human_durations(seconds: float | None, text: str) -> None:
    assert human(seconds) == text


def _task(element_id: str, wait: float | None, work: float | None) -> dict[str, Any]:
    return {"element_id": element_id, "name": element_id.title(), "wait": {"p50": wait, "p90": wait},
            "work": {"p50": work, "p90": work}}


def test_the_task_chart_draws_only_tasks_with_figures() -> None:
    tasks = [_task("log", 0.35, 2.0), _task("resolve", None, None), _task("debrief", None, None)]
    svg = str(task_chart(tasks))
    assert svg.count('class="bar"') == 4 and "n/a" not in svg and "350 ms" in svg and "0s" not in svg
    assert tasks_without_data(tasks) == ["Resolve", "Debrief"]
    assert str(task_chart(tasks[1:])) == ""  # no data at all: no empty chart either
