"""The approval rules: every condition a version must meet before an approver may approve it.

Pure: the caller gathers the facts (the version with its declaration, open comments, objectives served,
fitness tests, lint findings, the newest run of its scenario tests) and gets back every unmet condition, so a refusal can list them all at once.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Unmet:
    """One condition that is not met: a stable code for clients and a sentence for people."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def lint_errors(lint: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The lint findings that block approval (severity `error`)."""
    return [finding for finding in lint if str(finding.get("severity", "")).lower() == "error"]


def qualifying_tests(version: Mapping[str, Any],
                     fitness_tests: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Passing fitness tests of this exact version (same sha256) at or above its declared peak volume."""
    peak, agents = version.get("peak_incidents_per_hour"), version.get("peak_agents")
    if not peak or not agents:
        return []
    return [test for test in fitness_tests
            if test.get("status") == "passed" and test.get("sha256") == version.get("sha256")
            and int(test.get("incidents_per_hour") or 0) >= int(peak) and int(test.get("agents") or 0) >= int(agents)]


def _fitness_unmet(version: Mapping[str, Any], fitness_tests: Sequence[Mapping[str, Any]]) -> Unmet | None:
    if qualifying_tests(version, fitness_tests):
        return None
    peak, agents = version.get("peak_incidents_per_hour"), version.get("peak_agents")
    if not peak or not agents:
        return Unmet("no_peak_volume", "the version does not declare its peak volume (incidents per hour and "
                                       "agents), so no fitness test can show it copes with it")
    same = [t for t in fitness_tests if t.get("status") == "passed" and t.get("sha256") == version.get("sha256")]
    if not same:
        return Unmet("no_passing_fitness_test",
                     f"no passing fitness test exists for this exact version (sha256 {str(version.get('sha256'))[:12]}…); "
                     f"run one at {peak} incidents/hour with {agents} agents")
    best = max(same, key=lambda t: (int(t.get("incidents_per_hour") or 0), int(t.get("agents") or 0)))
    return Unmet("fitness_below_peak",
                 f"the passing fitness tests ran below the declared peak (best: {best.get('incidents_per_hour')} "
                 f"incidents/hour with {best.get('agents')} agents; declared: {peak} incidents/hour with {agents} agents)")


def scenario_unmet(version: Mapping[str, Any], scenarios: Mapping[str, Any]) -> list[Unmet]:
    """The scenario-test conditions: the current suite was run on these exact bytes, every scenario
    passed, and every sequence flow was taken by a passing scenario or is declared not testable.

    `scenarios` carries `suite` (id) and `run` (the newest run of that suite: sha256, suite_id, passed,
    failed, totals with uncovered_flows), either None when there is none.
    """
    suite, run = scenarios.get("suite"), scenarios.get("run")
    if not suite:
        return [Unmet("no_scenario_tests", "the version has no scenario tests; upload a scenario file whose "
                                           "scenarios take every sequence flow, and run it")]
    if not run or run.get("suite_id") != suite.get("id") or run.get("sha256") != version.get("sha256"):
        return [Unmet("scenario_tests_not_run", "the version's current scenario tests have not been run on it; "
                                                "run them (POST .../scenario-tests/run)")]
    unmet = []
    failed, total = int(run.get("failed") or 0), int(run.get("failed") or 0) + int(run.get("passed") or 0)
    if failed:
        unmet.append(Unmet("scenario_tests_failed", f"{failed} of {total} scenario(s) fail in the latest run; "
                                                    "fix the procedure or the scenarios and run them again"))
    uncovered = list((run.get("totals") or {}).get("uncovered_flows") or [])
    if uncovered:
        shown = ", ".join(uncovered[:10]) + (f" and {len(uncovered) - 10} more" if len(uncovered) > 10 else "")
        unmet.append(Unmet("flows_not_covered", f"no passing scenario takes {len(uncovered)} sequence flow(s): "
                                                f"{shown}; add scenarios for them or mark them not testable "
                                                "with a reason"))
    return unmet


def unmet_conditions(version: Mapping[str, Any], comments_open: int, objectives: Sequence[Any],
                     fitness_tests: Sequence[Mapping[str, Any]], lint: Sequence[Mapping[str, Any]], *,
                     scenarios: Mapping[str, Any]) -> list[Unmet]:
    """Every approval condition `version` does not meet; an empty list means it may be approved.

    `version` carries sha256, peak_incidents_per_hour and peak_agents; `fitness_tests` carry status,
    sha256, incidents_per_hour and agents; `lint` is the version's lint findings (severity error|warning);
    `scenarios` is described at scenario_unmet.
    """
    unmet: list[Unmet] = []
    errors = lint_errors(lint)
    if errors:
        unmet.append(Unmet("lint_errors", f"the lint reports {len(errors)} error(s); fix them in a new version"))
    if comments_open:
        unmet.append(Unmet("comments_open", f"{comments_open} review comment(s) are still open; resolve them first"))
    if not objectives:
        unmet.append(Unmet("no_objective", "the version serves no objective; declare at least one"))
    fitness = _fitness_unmet(version, fitness_tests)
    if fitness is not None:
        unmet.append(fitness)
    unmet.extend(scenario_unmet(version, scenarios))
    return unmet
