"""The design-time lint: a pure function from a parsed procedure to its findings (no I/O, no database)."""
from __future__ import annotations

from collections.abc import Iterable

from engine.bpmn.model import ProcedureDefinition

from .check_rules import check_placement, required_paths
from .data_rule import uncollected_names
from .declared import check_gateways, required_checks, start_data
from .findings import ERROR, RULES, Finding
from .graph_rules import missing_defaults, ownerless_tasks, reachability, unchecked_loops
from .personal_rules import personal_data


def lint(definition: ProcedureDefinition, required: Iterable[str] = ()) -> list[Finding]:
    """Every finding for `definition`, errors first, in rule order.

    Required checks are the process property `required_checks` together with `required` (the checks that
    strategy objectives demand of this procedure).
    """
    checks = check_gateways(definition)
    findings = [
        *required_paths(definition, required_checks(definition, required), checks),
        *check_placement(definition, checks),
        *uncollected_names(definition, checks, start_data(definition)),
        *reachability(definition),
        *missing_defaults(definition),
        *unchecked_loops(definition, checks),
        *ownerless_tasks(definition),
        *personal_data(definition),
    ]
    order = list(RULES)
    return sorted(findings, key=lambda f: (f.severity != ERROR, order.index(f.rule)))


def errors(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == ERROR]


def warnings(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity != ERROR]
