"""Taking one version through the whole governance path to active, as the people involved would.

declare (objectives and peak volume) -> submit -> a fitness test at the peak -> approve -> activate, each
step by the governance use cases themselves (so every rule applies and every step is in the version's
events with its actor), and each skipped when the version is already past it, so an interrupted run
resumes. The fitness step is the caller's: the first-start bootstrap runs a real Locust test
(engine.services.bootstrap); a test suite may store a recorded pass.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import activation, approval, governance
from .engine_app import IncidentEngine

# (engine, key, version number, peak) -> the finished fitness test row
FitnessStep = Callable[[IncidentEngine, str, int, "Peak"], dict[str, Any]]


@dataclass(frozen=True)
class Peak:
    incidents_per_hour: int
    agents: int


class NotApproved(Exception):
    """The version could not go live: its fitness test did not pass, or approval was refused."""


def go_live(engine: IncidentEngine, key: str, number: int, *, objectives: Sequence[str], peak: Peak,
            fitness: FitnessStep, designer: str, approver: str, note: str | None = None) -> dict[str, Any]:
    """Declare, submit, test, approve and activate version `number` of `key`; returns its governance state.

    `designer` declares and submits; `approver` (who must not be the uploader) approves and activates.
    """
    state = governance.status(engine, key, number)
    if state["status"] == "draft":
        governance.declare(engine, key, number, {"objectives": list(objectives),
                                                 "peak_incidents_per_hour": peak.incidents_per_hour,
                                                 "peak_agents": peak.agents}, actor=designer)
        state = governance.act(engine, key, number, "submit", actor=designer)
    if state["status"] == "in_review":
        test = fitness(engine, key, number, peak)
        state = governance.status(engine, key, number)
        if state["status"] != "tested":
            reasons = (test.get("report") or {}).get("reasons") or [test.get("error") or test["status"]]
            raise NotApproved(f"the fitness test of {key} v{number} did not pass: {'; '.join(map(str, reasons))}")
    if state["status"] == "tested":
        state = approval.approve(engine, key, number, actor=approver, note=note)
    if state["status"] == "approved":
        state = activation.activate(engine, key, number, actor=approver)
    if state["status"] != "active":
        raise NotApproved(f"{key} v{number} is {state['status']} and cannot go live")
    return state
