"""Check gateways at run time: the audit event each evaluation writes, and the pass flow an override takes.

A check gateway is an exclusive gateway with the property `check`. Every time one completes, the step
reports a `check_passed`, `check_failed` or `check_overridden` transition beside the gateway decision, with
the values of the names its pass condition read. A supervisor's override sets OVERRIDE_FLAG in the
gateway task's internal data (engine-private, never copied to other tasks) before the gateway runs again;
the gateway then takes its pass flow whatever the data says.
"""
from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.specs.defaults import ExclusiveGateway
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.model import ProcedureDefinition
from engine.checks.declared import check_at

from .procedure import RuntimeProcedure

if TYPE_CHECKING:
    from .transitions import Transition

OVERRIDE_FLAG = "check_override"
CHECK_KINDS = ("check_passed", "check_failed", "check_overridden")


class CheckGateway(ExclusiveGateway):
    """ExclusiveGateway that takes `pass_output` when its task carries the override flag."""

    pass_output: str | None = None

    def _run_hook(self, my_task: Any) -> bool:
        if not my_task.internal_data.get(OVERRIDE_FLAG) or self.pass_output is None:
            return bool(super()._run_hook(my_task))
        output = my_task.workflow.spec.get_task_spec_from_name(self.pass_output)
        my_task._sync_children([output], TaskState.FUTURE)
        for child in my_task.children:
            child.task_spec._predict(child, mask=TaskState.FUTURE | TaskState.PREDICTED_MASK)
        return True


def _target_id(process_spec: Any, spec_name: str) -> str:
    target = process_spec.task_specs.get(spec_name)
    return getattr(target, "bpmn_id", None) or spec_name.split(".")[0]


def prepare_checks(definition: ProcedureDefinition) -> None:
    """Make every check gateway of a freshly parsed spec a CheckGateway that knows its pass output."""
    for process_spec in [definition.spec, *definition.subprocess_specs.values()]:
        if process_spec is None:
            continue
        for task_spec in process_spec.task_specs.values():
            check = check_at(definition, getattr(task_spec, "bpmn_id", None) or "")
            if check is None or check.pass_flow is None or not isinstance(task_spec, ExclusiveGateway):
                continue
            task_spec.__class__ = CheckGateway
            conditional = [name for condition, name in task_spec.cond_task_specs if condition is not None]
            matching = [n for n in conditional if _target_id(process_spec, n) == check.pass_flow.target]
            task_spec.pass_output = (matching or conditional or [None])[0]  # type: ignore[attr-defined]


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def check_transition(procedure: RuntimeProcedure, task: Any, decision: Transition) -> Transition | None:
    """The check event for a completed gateway task (None when the gateway enforces no check)."""
    check = check_at(procedure.definition, decision.element_id)
    if check is None or decision.data is None:
        return None
    taken = decision.data.get("taken") or [{}]
    passed = check.pass_flow is not None and any(t.get("flow") == check.pass_flow.id for t in taken)
    overridden = bool(task.internal_data.get(OVERRIDE_FLAG))
    outcome = "overridden" if overridden else "passed" if passed else "failed"
    data = {"check": check.name, "passed": passed,
            "values": {name: _json_safe(task.data.get(name)) for name in sorted(check.names)},
            "flow": taken[0].get("flow"), "target": taken[0].get("target")}
    return replace(decision, kind=f"check_{outcome}", from_state=None, to_state=outcome, data=data)
