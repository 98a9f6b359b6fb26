"""Dropping the finished history of an incident's task tree before each save, so its cost stays flat.

SpiffWorkflow keeps every task it ever ran: each loop pass adds nodes below the previous ones, so the state,
every (de)serialization and every engine step grow with the incident's age, and near 1,000 levels the
engine stops finding its open tasks. Nothing needs those nodes: every task holds a full copy of its data,
joins only look below the split that started their branches, and the history is in our audit table.

The rule: find the deepest task that is an ancestor of every unfinished task (the common ancestor, so any
join or boundary event in progress stays whole), keep it and KEEP finished tasks above it, drop everything
else above, and hang what is kept directly under the root. Two guards:
- the latest pass of a check gateway that took its fail flow stays, since a supervisor's override rewinds
  to it (engine.runtime.override);
- passes of dropped tasks are counted in the root's internal data (PRUNED), so the loop cap still sees them.
Loops inside a subprocess are not pruned (only the top-level tree is); a finished subprocess whose task is
dropped goes with it.
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from .check_gateway import OVERRIDE_FLAG

PRUNED = "pruned_passes"
KEEP = 1  # finished tasks kept above the common ancestor of the open ones
COUNTED = TaskState.DEFINITE_MASK | TaskState.FINISHED_MASK  # what the loop guard counts as a pass


def counts_as_pass(task: Any) -> bool:
    return bool(task.task_spec.bpmn_id) and task.has_state(COUNTED) and not task.has_state(TaskState.CANCELLED)


def pruned_passes(workflow: BpmnWorkflow) -> dict[str, int]:
    """Passes per BPMN element that earlier saves dropped from the tree."""
    root = workflow.task_tree
    return dict(root.internal_data.get(PRUNED) or {}) if root is not None else {}


def _path_to_root(task: Any) -> list[Any]:
    path = []
    while task is not None:
        path.append(task)
        task = task.parent
    return path  # leaf first, root last


def _common_index(path: list[Any], others: list[Any]) -> int:
    """Index on `path` (leaf first, root last) of the deepest task that is an ancestor of every task in
    `others` too: each walks up only until it meets the path."""
    on_path = {task.id: i for i, task in enumerate(path)}
    common = 0
    for task in others:
        node = task
        while node.id not in on_path:
            node = node.parent
        common = max(common, on_path[node.id])
    return common


def _cut_index(path: list[Any], common: int) -> int:
    """Index on `path` (leaf first) of the highest task to keep."""
    cut = common + KEEP
    seen: set[str] = set()
    for index, task in enumerate(path):  # newest first: the first pass of each gateway is its latest
        spec = task.task_spec
        if getattr(spec, "pass_output", None) is None or spec.name in seen or task.state != TaskState.COMPLETED:
            continue
        seen.add(spec.name)
        taken = {c.task_spec.name for c in task.children
                 if c.has_state(COUNTED) and not c.has_state(TaskState.CANCELLED)}
        if spec.pass_output not in taken and not task.internal_data.get(OVERRIDE_FLAG):
            cut = max(cut, index + KEEP)  # a failed check the override may still rewind to
    return cut


def prune(workflow: BpmnWorkflow) -> int:
    """Drop finished history above the kept part of the tree; the number of tasks dropped."""
    root = workflow.task_tree
    live = [t for t in workflow.tasks.values() if not t.has_state(TaskState.FINISHED_MASK)]
    if root is None or not live:
        return 0
    path = _path_to_root(live[0])
    cut_index = _cut_index(path, _common_index(path, live[1:]))
    if cut_index >= len(path) - 2:  # nothing between the root and the kept part
        return 0
    cut = path[cut_index]
    keep = {root.id}
    stack = [cut]
    while stack:
        task = stack.pop()
        keep.add(task.id)
        stack.extend(task.children)
    counts = pruned_passes(workflow)
    dropped = [t for t in workflow.tasks.values() if t.id not in keep]
    for task in dropped:
        if counts_as_pass(task):
            counts[task.task_spec.bpmn_id] = counts.get(task.task_spec.bpmn_id, 0) + 1
        del workflow.tasks[task.id]
    root._children = [cut.id]
    cut._parent = root.id
    root.internal_data[PRUNED] = counts
    _drop_orphan_subprocesses(workflow)
    if workflow.last_task is not None and workflow.last_task.id not in workflow.tasks:
        workflow.last_task = None
    return len(dropped)


def deeper_than(workflow: BpmnWorkflow, limit: int) -> bool:
    """Whether an unfinished task lies more than `limit` levels deep, in the top-level tree or a subprocess
    (a tree of at most `limit` tasks cannot be: the usual case costs nothing)."""
    for scope in (workflow, *workflow.subprocesses.values()):
        if len(scope.tasks) <= limit:
            continue
        for task in scope.tasks.values():
            if not task.has_state(TaskState.FINISHED_MASK) and len(_path_to_root(task)) > limit:
                return True
    return False


def _drop_orphan_subprocesses(workflow: BpmnWorkflow) -> None:
    """Subprocesses are keyed by the task that runs them; those whose task is gone go too (and theirs)."""
    while True:
        present = set(workflow.tasks)
        for sub in workflow.subprocesses.values():
            present.update(sub.tasks)
        orphans = [key for key in workflow.subprocesses if key not in present]
        if not orphans:
            return
        for key in orphans:
            del workflow.subprocesses[key]
