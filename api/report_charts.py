"""Inline SVG charts for the report page, drawn on the server (no chart library, nothing fetched)."""
from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from engine.monitoring.stats import human

COLOURS = ("#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c")
_LABEL_W, _BAR_W, _BAR_H, _GAP = 220, 360, 14, 10

Group = tuple[str, Sequence[tuple[str, float | None]]]


def bar_chart(chart_id: str, title: str, groups: Sequence[Group]) -> Markup:
    """Horizontal grouped bars of durations (seconds): one group per label, one bar per series."""
    series = list(dict.fromkeys(name for _label, bars in groups for name, _value in bars))
    peak = max([v for _label, bars in groups for _n, v in bars if v] or [1.0])
    legend_h = 24
    height = legend_h + sum(len(bars) * _BAR_H + _GAP for _label, bars in groups) + 10
    width = _LABEL_W + _BAR_W + 90
    parts = [f'<svg id="{escape(chart_id)}" class="chart" role="img" xmlns="http://www.w3.org/2000/svg" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             f"<title>{escape(title)}</title>"]
    for n, name in enumerate(series):
        x = _LABEL_W + n * 90
        parts.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{COLOURS[n % len(COLOURS)]}"/>'
                     f'<text x="{x + 16}" y="14" font-size="11">{escape(name)}</text>')
    y = legend_h
    for label, bars in groups:
        parts.append(f'<text x="{_LABEL_W - 6}" y="{y + _BAR_H - 3}" font-size="12" text-anchor="end">'
                     f"{escape(label)}</text>")
        for name, value in bars:
            colour = COLOURS[series.index(name) % len(COLOURS)]
            length = 0.0 if not value else max(1.0, _BAR_W * value / peak)
            parts.append(f'<rect class="bar" data-series="{escape(name)}" data-label="{escape(label)}" '
                         f'data-seconds="{"" if value is None else value}" x="{_LABEL_W}" y="{y}" '
                         f'width="{length:.1f}" height="{_BAR_H - 2}" fill="{colour}"/>'
                         f'<text x="{_LABEL_W + length + 4:.1f}" y="{y + _BAR_H - 4}" font-size="10">'
                         f"{escape(human(value))}</text>")
            y += _BAR_H
        y += _GAP
    parts.append("</svg>")
    return Markup("".join(parts))


def cycle_chart(versions: Sequence[dict]) -> Markup:  # type: ignore[type-arg]
    groups = [(f"version {v['version']} ({v['cycle_time']['count']} completed)",
               [(s, v["cycle_time"][s]) for s in ("p50", "p90", "p95")]) for v in versions]
    return bar_chart("chart-cycle-time", "Cycle time by version (p50, p90, p95)", groups)


def _task_bars(task: dict) -> list[tuple[str, float | None]]:  # type: ignore[type-arg]
    return [("wait p50", task["wait"]["p50"]), ("wait p90", task["wait"]["p90"]),
            ("work p50", task["work"]["p50"]), ("work p90", task["work"]["p90"])]


def tasks_without_data(tasks: Sequence[dict]) -> list[str]:  # type: ignore[type-arg]
    """Names of the tasks with no wait or work figure in the window: one line on the page, not bars of n/a."""
    return [t.get("name") or t["element_id"] for t in tasks if all(v is None for _n, v in _task_bars(t))]


def task_chart(tasks: Sequence[dict]) -> Markup:  # type: ignore[type-arg]
    groups = [(t.get("name") or t["element_id"], _task_bars(t)) for t in tasks
              if any(v is not None for _n, v in _task_bars(t))]
    return bar_chart("chart-task-times", "Task wait and work times (p50, p90)", groups) if groups else Markup("")
