"""A boundary event join that settles only its own activity instance, so a timer whose flow re-enters its
activity leaves no stale timer behind.

SpiffWorkflow 3.2's BoundaryEventJoin, when an interrupting boundary event fires, marks every other instance of
the join below the split as cancelled (Join._find_tasks walks the whole subtree of the first split ancestor).
When the boundary event's flow leads back into its own activity (Camunda's testRepeatingTimerWithCancelActivity:
a timer that restarts the task), the re-entered activity's split lies in that subtree, so its own joins were
cancelled in advance: its next firing could no longer cancel the activity, and every firing opened one more
task beside the old one. Here the join leaves alone the instances that belong to a later split.

Each fired non-interrupting boundary event also hangs an instance of the join under itself, which only waits
to be cancelled when the activity ends (the activity's own join does the work), and SpiffWorkflow looks at
every waiting join on every task completion: a repeating timer firing hundreds of times made each completion
cost as much as all those firings (a runaway cycle spent its CPU budget before its cycle cap). That instance
is cancelled at once.
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.control import BoundaryEventJoin
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.util.task import TaskState


class ScopedBoundaryEventJoin(BoundaryEventJoin):
    """BoundaryEventJoin that cancels only the join instances of its own split instance."""

    def _find_tasks(self, my_task: Any) -> list[Any]:
        split = my_task.find_ancestor(self.split_task)
        return [t for t in super()._find_tasks(my_task) if t.find_ancestor(self.split_task) is split]

    def _update_hook(self, my_task: Any) -> bool:
        parent = my_task.parent
        if parent is not None and isinstance(parent.task_spec, BoundaryEvent) \
                and not parent.task_spec.cancel_activity and parent.has_state(TaskState.COMPLETED):
            my_task._set_state(TaskState.CANCELLED)
            my_task._drop_children()
            return False
        return bool(super()._update_hook(my_task))
