"""Shared in-process pieces for the benchmarks: the parsed procedure, valid form data, and two ways to
complete a task without a database or HTTP:

* ``raw_complete``: the SpiffWorkflow ceiling as DESIGN.md defines it: serializer.loads -> complete one user
  task -> do_engine_steps -> serializer.dumps (fire-and-forget service tasks settled in the same step, once).
* ``ServicePath``: what one API completion does to the workflow, through ``engine.runtime.runner.Runner``
  (loop guard, transition diff, open-task projection, and one extra loads/dumps per service task, exactly
  as ``engine.services.advance.advance`` calls ``Runner.finish_service``), still without a database.

Imported by benchmarks/completions.py and benchmarks/history_growth.py; not a test and not part of the service.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from SpiffWorkflow.util.task import TaskState

from engine.bpmn.forms import validate_submission
from engine.bpmn.parser import load_procedure
from engine.runtime import serializer
from engine.runtime.procedure import RuntimeProcedure, prepare_spec
from engine.runtime.runner import Runner
from engine.runtime.script_engine import SafeScriptEngine

ROOT = Path(__file__).resolve().parent.parent
PROCEDURE = "major_incident"
BPMN_FILE = ROOT / "bpmn" / "major_incident.bpmn"

# Start data keys from bpmn/README.md ("Major incident", Start data).
START_DATA: dict[str, Any] = {"priority": "P2", "summary": "Contact-centre telephony down", "caller_id": "C-1001"}

# One valid submission per user task of major_incident (every required field, passing the checks).
FORMS: dict[str, dict[str, Any]] = {
    "Task_LogIncident": {"summary": "Telephony platform down for all agents", "caller_id": "C-1001",
                         "identity_verified": True, "affected_service": "telephony", "customer_impact": "high"},
    "Task_Triage": {"priority": "P2", "priority_reason": "all inbound queues affected"},
    "Task_VerifyCallerIdentity": {"identity_verified": True, "verification_method": "call_back"},
    "Task_Diagnose": {"root_cause": "SIP trunk certificate expired", "workaround_available": False},
    "Task_EscalateDiagnosis": {"escalated_to": "duty manager"},
    "Task_SendStakeholderUpdate": {"update_sent": True},
    "Task_Resolve": {"resolution": "certificate renewed, trunks re-registered", "service_restored": True},
    "Task_Debrief": {"lessons_learned": "monitor certificate expiry", "actions": "add expiry alert",
                     "action_owner": "platform team", "actions_due": "2026-03-01"},
}
# The rework loop: Log incident without a verified caller fails the triage check; so does this.
USER_TASKS_PER_INCIDENT = 6  # Log, Triage, Send stakeholder update, Diagnose, Resolve, Debrief (checks pass)
FAIL_LOG = {**FORMS["Task_LogIncident"], "identity_verified": False}
FAIL_VERIFY = {"identity_verified": False, "verification_method": "security_questions"}


def form_for(element_id: str) -> dict[str, Any]:
    try:
        return FORMS[element_id]
    except KeyError:
        raise SystemExit(f"benchmark has no form data for task {element_id}") from None


@dataclass
class Loaded:
    runtime: RuntimeProcedure
    script_engine: SafeScriptEngine
    runner: Runner

    @property
    def spec(self) -> Any:
        return self.runtime.spec

    @property
    def subprocess_specs(self) -> dict[str, Any]:
        return self.runtime.subprocess_specs


def load(loop_cap: int = 50) -> Loaded:
    """Parse bpmn/major_incident.bpmn once, as the service does (load_procedure + prepare_spec)."""
    definition = load_procedure(BPMN_FILE.read_bytes(), process=PROCEDURE)
    prepare_spec(definition.spec, definition.subprocess_specs)
    runtime = RuntimeProcedure("bench", definition.key, 1, "bench", definition, definition.spec,
                               definition.subprocess_specs)
    # Check that the benchmark's form data is what the API would accept (same validator).
    for element_id, values in [*FORMS.items(), ("Task_LogIncident", FAIL_LOG), ("Task_VerifyCallerIdentity", FAIL_VERIFY)]:
        user_task = definition.user_task(element_id)
        assert user_task is not None, element_id
        validate_submission(user_task.form, values)
    script_engine = SafeScriptEngine(region_country="GB", region_subdivision="ENG")
    return Loaded(runtime, script_engine, Runner(runtime, script_engine, loop_cap=loop_cap))


def open_tasks(workflow: Any) -> list[tuple[str, str]]:
    """(task id, element id) of every ready human task."""
    return [(str(t.id), t.task_spec.bpmn_id) for t in workflow.get_tasks(state=TaskState.READY, manual=True)]


def raw_complete(ld: Loaded, state: str, task_id: str, values: dict[str, Any]) -> tuple[str, Any]:
    """The ceiling: loads -> complete one user task -> run engine -> dumps. Returns (new state, workflow)."""
    workflow = serializer.loads(state, ld.spec, ld.subprocess_specs, ld.script_engine)
    task = workflow.get_task_from_id(UUID(task_id))
    task.data.update(values)
    task.run()
    workflow.do_engine_steps()
    _settle_services(ld, workflow)
    return serializer.dumps(workflow), workflow


def _settle_services(ld: Loaded, workflow: Any) -> None:
    """Fire-and-forget service tasks (Notify stakeholders) are completed at once, as advance() does."""
    for _round in range(100):
        started = [t for t in workflow.get_tasks(state=TaskState.STARTED)
                   if t.task_spec.bpmn_id and ld.runtime.is_service(t.task_spec.bpmn_id)]
        if not started:
            return
        started[0].complete()
        workflow.do_engine_steps()


def raw_start(ld: Loaded, data: dict[str, Any] | None = None) -> tuple[str, Any]:
    outcome = ld.runner.start(dict(data or START_DATA))
    workflow = serializer.loads(outcome.state, ld.spec, ld.subprocess_specs, ld.script_engine)
    return outcome.state, workflow


def service_complete(ld: Loaded, state: str, task_id: str, values: dict[str, Any]) -> tuple[str, list[tuple[str, str]], str]:
    """What one API completion does to the workflow (engine.services.advance.advance), minus the database.

    Returns (state, open tasks, status)."""
    outcome = ld.runner.complete(state, task_id, values)
    for _round in range(100):
        if not outcome.services:
            break
        outcome = ld.runner.finish_service(outcome.state, outcome.services[0].task_id, {})
    return outcome.state, [(t.id, t.element_id) for t in outcome.open_tasks], outcome.status


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list (NaN when empty)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(pct / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summary_ms(latencies_s: list[float]) -> dict[str, float]:
    values = sorted(latencies_s)
    return {
        "count": len(values),
        "p50_ms": percentile(values, 50) * 1000,
        "p95_ms": percentile(values, 95) * 1000,
        "p99_ms": percentile(values, 99) * 1000,
        "max_ms": (values[-1] * 1000) if values else math.nan,
        "mean_ms": (sum(values) / len(values) * 1000) if values else math.nan,
    }
