"""The scenario report page of a version: every scenario's result, and the diagram coloured by coverage."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from engine.services import scenario_tests

from .auth import requires
from .extensions import engine
from .identity import current_principal

blp = Blueprint("scenario_reports", __name__, url_prefix="/reports")


def flow_marks(run: dict[str, Any] | None) -> dict[str, str]:
    """covered, not_testable or uncovered for each sequence flow (what the diagram colours)."""
    if run is None:
        return {}
    return {f["flow"]: "covered" if f["covered"] else "not_testable" if f["not_testable"] else "uncovered"
            for f in run["coverage"]["flows"]}


@blp.get("/procedures/<key>/versions/<int:number>/scenario-tests")
@requires("procedures.read")
def scenario_page(key: str, number: int) -> Any:
    """Server-rendered scenario report (every role that reads procedures). Query: run (default: the newest)."""
    found = scenario_tests.report(engine(), key, number, request.args.get("run") or None,
                                  principal=current_principal())
    return render_template("scenario_report.html", report=found, run=found["run"], marks=flow_marks(found["run"]))
