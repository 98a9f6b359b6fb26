"""Turning a Locust run's CSV files and the isolated database's counts into a report with a verdict.

Pure: CSV text and counts in, a JSON-ready report out. The verdict applies configurable thresholds: at
most `max_failures` failed requests, every endpoint's 95th percentile under `p95_ms`, (when
`require_settled`) every started incident completed or waiting only on a timer, and an achieved arrival
rate of at least `min_arrival_ratio` of the requested one (a run that could not deliver the volume is
no evidence that the engine copes with it).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Thresholds:
    max_failures: int = 0
    p95_ms: float = 500.0
    require_settled: bool = True
    min_arrival_ratio: float = 0.9

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "", "N/A") else None
    except ValueError:
        return None


def _endpoint(row: Mapping[str, str]) -> dict[str, Any]:
    def ms(key: str) -> float | None:
        value = _number(row.get(key))
        return round(value, 1) if value is not None else None

    return {"method": row.get("Type") or None, "name": row.get("Name"),
            "requests": int(_number(row.get("Request Count")) or 0),
            "failures": int(_number(row.get("Failure Count")) or 0),
            "requests_per_second": round(_number(row.get("Requests/s")) or 0.0, 3),
            "avg_ms": ms("Average Response Time"), "min_ms": ms("Min Response Time"),
            "max_ms": ms("Max Response Time"), "p50_ms": ms("50%"), "p95_ms": ms("95%"), "p99_ms": ms("99%")}


def parse_stats(text: str | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """(one entry per endpoint, the aggregated row) from Locust's `<prefix>_stats.csv`."""
    endpoints, aggregated = [], None
    for row in csv.DictReader(io.StringIO(text or "")):
        entry = _endpoint(row)
        if row.get("Name") == "Aggregated":
            aggregated = entry
        else:
            endpoints.append(entry)
    return endpoints, aggregated


def parse_failures(text: str | None) -> list[dict[str, Any]]:
    """Locust's `<prefix>_failures.csv`: one entry per distinct error."""
    return [{"method": row.get("Method"), "name": row.get("Name"), "error": row.get("Error"),
             "occurrences": int(_number(row.get("Occurrences")) or 0)}
            for row in csv.DictReader(io.StringIO(text or ""))]


def verdict(report: Mapping[str, Any], thresholds: Thresholds) -> list[str]:
    """Why the run fails the thresholds; an empty list is a pass."""
    reasons: list[str] = []
    incidents = report["incidents"]
    if not incidents.get("started"):
        reasons.append("no incident was started, so the run shows nothing about this version")
    failures = int((report.get("aggregated") or {}).get("failures") or 0)
    if failures > thresholds.max_failures:
        reasons.append(f"{failures} request(s) failed (allowed: {thresholds.max_failures})")
    for endpoint in report["endpoints"]:
        p95 = endpoint.get("p95_ms")
        if endpoint["requests"] and p95 is not None and p95 >= thresholds.p95_ms:
            reasons.append(f"p95 of {endpoint['name']} is {p95:g} ms (limit: under {thresholds.p95_ms:g} ms)")
    achieved, requested = incidents.get("arrival_per_hour"), incidents.get("requested_per_hour")
    if achieved is not None and requested and achieved < thresholds.min_arrival_ratio * requested:
        reasons.append(f"incidents arrived at {achieved:g}/hour, short of the requested {requested:g}/hour")
    if thresholds.require_settled and incidents.get("unsettled"):
        reasons.append(f"{incidents['unsettled']} of {incidents['started']} incident(s) were neither completed nor "
                       "waiting only on a timer when the run ended")
    return reasons


def build(*, stats_csv: str | None, failures_csv: str | None, counts: Mapping[str, Any], duration_s: float,
          peak_rss_bytes: int, thresholds: Thresholds, requested_per_hour: float | None = None,
          dispatch_seconds: float | None = None, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The stored report: incidents, throughput, latency per endpoint, failures, memory, and the verdict.

    `dispatch_seconds` is how long incidents were being started (the run minus the drain phase)."""
    endpoints, aggregated = parse_stats(stats_csv)
    tasks_completed = int(counts.get("tasks_completed") or 0)
    incidents = {k: counts.get(k, 0) for k in ("started", "completed", "running", "waiting_on_timer", "error",
                                               "cancelled", "unsettled")}
    incidents["requested_per_hour"] = requested_per_hour
    incidents["arrival_per_hour"] = round(incidents["started"] * 3600 / dispatch_seconds) \
        if dispatch_seconds else None
    report: dict[str, Any] = {
        "incidents": incidents,
        "tasks": {"completed": tasks_completed,
                  "completions_per_second": round(tasks_completed / duration_s, 3) if duration_s else 0.0},
        "endpoints": endpoints, "aggregated": aggregated or {"requests": 0, "failures": 0},
        "failures": parse_failures(failures_csv),
        "server": {"peak_rss_bytes": peak_rss_bytes, "peak_rss_mib": round(peak_rss_bytes / 2**20, 1)},
        "thresholds": thresholds.as_dict(),
        **dict(extra or {}),
    }
    reasons = verdict(report, thresholds)
    report["passed"], report["reasons"] = not reasons, reasons
    return report
