"""The ops report page of a procedure: criteria, charts, check adherence, recommendations, the diagram."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, render_template, request

from engine.errors import Invalid, Problem
from engine.monitoring.stats import human
from engine.services.reports import procedure_report

from .auth import requires
from .extensions import engine
from .report_charts import cycle_chart, task_chart, tasks_without_data

blp = Blueprint("reports", __name__, url_prefix="/reports")


def _when(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as err:
        raise Invalid(f"{name} is not an ISO 8601 timestamp", [Problem("not a timestamp", field=name)]) from err
    if value.tzinfo is None:
        raise Invalid(f"{name} needs a time zone", [Problem("add Z or an offset", field=name)])
    return value


def _version() -> int | None:
    raw = request.args.get("version")
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise Invalid("version is a positive whole number", [Problem("not a version", field="version")])
    return int(raw)


def overlays(tasks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What the diagram shows on each user task: incidents that reached it and the median wait."""
    return {t["element_id"]: {"incidents": t["incidents"], "median_wait": t["wait"]["p50"],
                              "median_wait_text": human(t["wait"]["p50"])} for t in tasks}


@blp.get("/procedures/<key>")
@requires("metrics.read")
def procedure_page(key: str) -> Any:
    """Server-rendered report (roles: ops, supervisor). Query: since, until (ISO 8601), version."""
    report = procedure_report(engine(), key, since=_when("since"), until=_when("until"), version=_version())
    metrics = report["metrics"]
    return render_template(
        "report.html", report=report, metrics=metrics, human=human,
        cycle_svg=cycle_chart(metrics["versions"]), task_svg=task_chart(metrics["tasks"]),
        no_task_data=tasks_without_data(metrics["tasks"]),
        overlay_data=overlays(metrics["tasks"]))
