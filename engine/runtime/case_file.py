"""What a step wrote to the process scope: the variables the workflow itself set (camunda:outputParameter,
script results, camunda:out mappings, a subprocess's writes as it ends), for the incident's case file.

Camunda shows every process-scope variable; what was submitted or delivered is already known to the service,
this finds the rest. A task of the process itself (not of a subprocess, whose variables reach the process
when it completes, nor of a multi-instance instance, whose element variable is its own) that completed in
this step is compared with the task it inherited its data from: what it added or changed is what it wrote.
Its local variables (camunda:inputParameter) are gone by then (engine.runtime.io_mapping drops them when the
activity completes), so they never reach the case file, as in Camunda.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.records.declarations import ERASED, MARKER

from .transitions import Snapshot

_INTERNAL = ("_collection_",)  # variables the engine sets for itself (engine.runtime.multi_instance)


def process_writes(workflow: BpmnWorkflow, before: Snapshot, node_type: Callable[[str], str | None]) -> dict[str, Any]:
    """The process-scope variables the tasks that completed since `before` set or changed, as JSON values,
    later completions last. Only activities and events write: a gateway or a join merely merges its
    branches' data (which each branch's own tasks already wrote)."""
    done = [t for t in workflow.tasks.values()
            if t.state == TaskState.COMPLETED and before.states.get(t.id) != TaskState.COMPLETED
            and _writes(t.task_spec, node_type)]
    written: dict[str, Any] = {}
    for task in sorted(done, key=lambda t: t.last_state_change):
        parent = task.parent
        if parent is not None and isinstance(parent.task_spec, LoopTask):
            continue  # an instance of a multi-instance activity: what reaches the process comes with its parent
        seen = parent.data if parent is not None else {}
        for name, value in task.data.items():
            if name.startswith(_INTERNAL):
                continue
            if name not in seen or seen[name] != value:
                written[name] = value
    return json.loads(json.dumps(written, default=_plain)) if written else written


def _writes(spec: Any, node_type: Callable[[str], str | None]) -> bool:
    bpmn_id = getattr(spec, "bpmn_id", None)
    if not bpmn_id or spec.name.endswith((".BoundaryEventSplit", ".BoundaryEventJoin")):
        return False
    kind = node_type(bpmn_id)
    return kind is not None and not kind.endswith("Gateway")


def _plain(value: Any) -> Any:
    """A value a script or expression made that JSON has no type for, as Camunda's REST API would print it."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


def scrub(workflow: BpmnWorkflow, personal: dict[str, Any]) -> None:
    """Personal values the workflow made itself (a declared name set by a mapping or a script) leave the workflow
    too: every task holding one holds the marker instead, as if it had come in from outside."""
    holders = [workflow.data, *(t.data for t in workflow.tasks.values())]
    for sub in workflow.subprocesses.values():
        holders.append(sub.data)
        holders.extend(t.data for t in sub.tasks.values())
    for data in holders:
        for name in personal.keys() & data.keys():
            if data[name] not in (None, MARKER, ERASED):
                data[name] = MARKER
