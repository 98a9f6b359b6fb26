"""Lint at upload: refuse a procedure whose lint finds errors; keep its warnings and checks with the version."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from engine.bpmn.model import ProcedureDefinition
from engine.bpmn.support import capped
from engine.checks.declared import check_gateways, required_checks
from engine.checks.lint import errors, lint, warnings
from engine.errors import Problem, ProcedureInvalid


def linted_summary(definition: ProcedureDefinition, summary: dict[str, Any],
                   required: Iterable[str] = ()) -> dict[str, Any]:
    """`summary` with the lint findings, the declared checks and the lint warnings added.

    Raises ProcedureInvalid, one problem per error (rule, element id, line, message, path), when the
    lint finds any error.
    """
    required = list(required)
    findings = lint(definition, required)
    refused = errors(findings)
    if refused:
        problems: list[Problem] = [f.as_problem() for f in refused]
        raise ProcedureInvalid(f"process {definition.key} breaks {len(refused)} lint rule(s) for mandatory "
                               "checks and flow structure", capped(problems))
    required_names = set(required_checks(definition, required))
    return {
        **summary,
        "warnings": [*summary.get("warnings", []), *(f.as_problem().as_dict() for f in warnings(findings))],
        "lint": [f.as_dict() for f in findings],
        "checks": [{**check.as_dict(), "required": check.name in required_names}
                   for check in check_gateways(definition).values()],
        "required_checks": sorted(required_names),
    }
