"""A parallel gateway whose join applies our merge rule (see engine.runtime.merge) instead of SpiffWorkflow's."""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import ParallelGateway
from SpiffWorkflow.util.task import TaskState

from .merge import merge_branches


def _ancestor_ids(task: Any) -> list[Any]:
    ids = []
    node = task
    while node is not None:
        ids.append(node.id)
        node = node.parent
    return ids


def _nearest_common_ancestor(tasks: list[Any]) -> Any:
    """The deepest task that is an ancestor of every given task (the split that started the branches)."""
    others = [set(_ancestor_ids(t)) for t in tasks[1:]]
    node = tasks[0]
    while node is not None:
        if all(node.id in ids for ids in others):
            return node
        node = node.parent
    return None


class MergingParallelGateway(ParallelGateway):
    """ParallelGateway with a deterministic, documented data merge at the join."""

    def _run_hook(self, my_task: Any) -> bool:
        arrivals = sorted(
            (t for t in my_task.workflow.tasks.values()
             if t.task_spec == self and t is not my_task and t.has_state(TaskState.FINISHED_MASK)
             and t.parent is not None and my_task.id not in _ancestor_ids(t)
             and t.id not in _ancestor_ids(my_task)),
            key=lambda t: t.last_state_change,
        )
        branch_ends = [t.parent for t in arrivals] + [my_task.parent]
        branch_data = [dict(t.data) for t in branch_ends]
        result = super()._run_hook(my_task)
        if len(branch_ends) > 1:
            split = _nearest_common_ancestor(branch_ends)
            base = dict(split.data) if split is not None else {}
            my_task.data = merge_branches(base, branch_data)
        return result
