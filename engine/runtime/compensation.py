"""Compensation at run time: completed compensable activities are recorded; a throw runs their handlers.

engine.bpmn.compensation rewrote the file (handlers in processes of their own, each throw a loop calling
them); this module is hooked onto the task specs when the spec is built:
- each completion of a compensable activity (one with a compensation handler, or a subprocess holding
  some) appends a record to the internal data of the workflow's root task: element id, the scope it ran
  in, its own instance id, an order number, and the variables local to it (a multi-instance instance's
  element variable, loopCounter and what it set). The root task is never pruned
  (engine.runtime.prune), so the records survive saves, unlike the finished tasks themselves;
- a throw, when it starts, takes the records of its scope (those of its activityRef only, if it names one)
  in reverse order of completion; a subprocess with no handler of its own stands for the records made
  inside it (again in reverse order); a subprocess with a compensation event subprocess runs that, in
  the subprocess's scope. Taken records are dropped: an activity is compensated once. Then it runs the
  handlers one after another, each a real task (a person's handler is in the queues like any task), with
  the compensated instance's local variables visible to the handler only;
- each handler's call is audited as compensation_started / compensation_completed (compensation_transitions).
"""
from __future__ import annotations

from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.compensation import CALL, GENERATED, NEXT, PICK, Plan

RECORDS = "compensation_records"
SEQ = "compensation_seq"
QUEUE = "compensation_queue"
CURRENT = "compensation_current"
_SPLITS = (".BoundaryEventSplit", ".BoundaryEventJoin")


def attach(specs: list[Any], plan: Plan) -> None:
    """Hook the recording, the throws' picks and the handler calls onto the task specs of one procedure."""
    if not plan:
        return
    for spec in specs:
        for task_spec in spec.task_specs.values():
            bpmn_id = getattr(task_spec, "bpmn_id", None) or ""
            if GENERATED in bpmn_id:
                if bpmn_id.endswith(PICK):
                    task_spec.completed_event.connect(_pick, plan, bpmn_id[: -len(PICK)])
                elif CALL in bpmn_id:
                    throw, _, handler = bpmn_id.partition(CALL)
                    task_spec.compensation_handler = handler
                    task_spec.compensation_throw = throw
                    task_spec.update_event.connect(_call_starts)
                    task_spec.completed_event.connect(_call_ends)
                task_spec.bpmn_id = None  # generated: not in the audit trail, the loop cap or the task lists
            elif bpmn_id in plan.recorded and not task_spec.name.endswith(_SPLITS) \
                    and not isinstance(task_spec, LoopTask):  # a multi-instance activity records per instance
                task_spec.completed_event.connect(_record)


def _root(task: Any) -> Any:
    return task.workflow.top_workflow.task_tree


def records(workflow: Any) -> list[dict[str, Any]]:
    """The completed compensable activity instances not compensated yet, oldest first."""
    root = workflow.task_tree
    return list(root.internal_data.get(RECORDS) or []) if root is not None else []


def _parent_task(workflow: Any) -> Any:
    parent_id = getattr(workflow, "parent_task_id", None)
    return None if parent_id is None else workflow.top_workflow.get_task_from_id(parent_id)


def scope_key(workflow: Any) -> str:
    """Which scope instance a workflow is: '' for the process, the subprocess task's id for a subprocess;
    a compensation event subprocess's run is the scope of the subprocess instance it compensates."""
    parent = _parent_task(workflow)
    if parent is None:
        return ""
    if getattr(parent.task_spec, "compensation_handler", None):
        current = parent.internal_data.get(CURRENT) or {}
        return str(current.get("scope", parent.id))
    return str(parent.id)


def _record(workflow: Any, task: Any) -> None:
    root = _root(task)
    seq = int(root.internal_data.get(SEQ) or 0) + 1
    local: dict[str, Any] = {}
    parent = task.parent
    if parent is not None and isinstance(parent.task_spec, LoopTask):
        local = {k: deepcopy(v) for k, v in task.data.items() if k not in parent.data or parent.data[k] != v}
    record = {"seq": seq, "element": task.task_spec.bpmn_id, "scope": scope_key(task.workflow),
              "instance": str(task.id), "local": local}
    root.internal_data[RECORDS] = [*(root.internal_data.get(RECORDS) or []), record]
    root.internal_data[SEQ] = seq


def _queue(task: Any, plan: Plan, throw: str, scope: str) -> list[dict[str, Any]]:
    """The handlers a throw runs, in order; the records it takes are dropped."""
    root = _root(task)
    kept = list(root.internal_data.get(RECORDS) or [])
    ref = plan.throws.get(throw)
    chosen = sorted((r for r in kept if r["scope"] == scope and (ref is None or r["element"] == ref)),
                    key=lambda r: r["seq"], reverse=True)
    taken: set[int] = set()
    items: list[dict[str, Any]] = []

    def expand(record: dict[str, Any]) -> None:
        taken.add(record["seq"])
        element = record["element"]
        handler = plan.handlers.get(element)
        if handler is not None:
            items.append({"handler": handler, "element": element, "instance": record["instance"],
                          "scope": record["instance"] if element in plan.event_subprocesses else record["scope"],
                          "local": record.get("local") or {}})
            if element not in plan.event_subprocesses:
                return
            # the event subprocess's throws take the records made inside the subprocess
            return
        inner = sorted((r for r in kept if r["scope"] == record["instance"] and r["seq"] not in taken),
                       key=lambda r: r["seq"], reverse=True)
        for item in inner:
            expand(item)

    for record in chosen:
        if record["seq"] not in taken:
            expand(record)
    root.internal_data[RECORDS] = [r for r in kept if r["seq"] not in taken]
    return items


def _cancelled(host: Any, transaction: str) -> str:
    """The scope of the transaction instance a cancel boundary event just took over from (the latest one beside
    the throw). SpiffWorkflow ends a cancelled transaction's task as completed: its record is dropped, since
    a cancelled transaction did not complete."""
    ended = [t for t in host.workflow.tasks.values()
             if t.task_spec.bpmn_id == transaction and t.has_state(TaskState.FINISHED_MASK)]
    latest = max(ended, key=lambda t: t.last_state_change or 0.0, default=None)
    if latest is None:
        return "-"
    root = _root(host)
    root.internal_data[RECORDS] = [r for r in root.internal_data.get(RECORDS) or []
                                   if not (r["element"] == transaction and r["instance"] == str(latest.id))]
    return str(latest.id)


def _throw_scope(host: Any, plan: Plan) -> str:
    """The scope a throw compensates: its own, or for a throw in an event subprocess the scope that holds it."""
    workflow = host.workflow
    parent = _parent_task(workflow)
    while parent is not None and parent.task_spec.bpmn_id in plan.event_scopes:
        workflow = parent.workflow
        parent = _parent_task(workflow)
    return scope_key(workflow)


def _host(task: Any) -> Any:
    """The throw's subprocess task (the generated loop runs inside it)."""
    return _parent_task(task.workflow)


def _pick(workflow: Any, task: Any, plan: Plan, throw: str) -> None:
    host = _host(task)
    queue = host.internal_data.get(QUEUE)
    if queue is None:
        scope = _cancelled(host, plan.transactions[throw]) if throw in plan.transactions else _throw_scope(host, plan)
        queue = _queue(task, plan, throw, scope)
    task.data.pop(NEXT, None)
    host.internal_data.pop(CURRENT, None)
    if queue:
        item = dict(queue.pop(0))
        local = item.get("local") or {}
        item["shadowed"] = {k: deepcopy(task.data[k]) for k in local if k in task.data}
        task.data.update(deepcopy(local))
        task.data[NEXT] = item["handler"]
        host.internal_data[CURRENT] = item
    host.internal_data[QUEUE] = queue


def _call_starts(workflow: Any, task: Any) -> None:
    task.data.pop(NEXT, None)
    if CURRENT not in task.internal_data:
        task.internal_data[CURRENT] = dict(_host(task).internal_data.get(CURRENT) or {})


def _call_ends(workflow: Any, task: Any) -> None:
    """The handler is done: the compensated instance's local variables go out of sight again."""
    task.data.pop(NEXT, None)
    current = task.internal_data.get(CURRENT) or {}
    shadowed = current.get("shadowed") or {}
    for name in current.get("local") or {}:
        if name in shadowed:
            task.data[name] = deepcopy(shadowed[name])
        else:
            task.data.pop(name, None)


def transitions(task: Any, previous: int | None, make: Any) -> list[Any]:
    """compensation_started / compensation_completed for a handler call that changed state;
    `make(kind, task, element_id, from_state, to_state, data)` builds one transition."""
    spec = task.task_spec
    handler = getattr(spec, "compensation_handler", None)
    if handler is None:
        return []
    current = task.internal_data.get(CURRENT) or {}
    data = {"compensates": current.get("element"), "handler": handler, "throw": spec.compensation_throw}
    out = []
    if previous is None or previous & (TaskState.PREDICTED_MASK | TaskState.READY):
        if task.has_state(TaskState.STARTED | TaskState.COMPLETED):
            out.append(make("compensation_started", task, handler, None, TaskState.STARTED, data))
    if task.has_state(TaskState.COMPLETED) and previous != TaskState.COMPLETED:
        out.append(make("compensation_completed", task, handler, TaskState.STARTED, TaskState.COMPLETED, data))
    return out
