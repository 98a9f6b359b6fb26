"""A scope whose own flow has ended stops listening to its event subprocesses, as in Camunda.

SpiffWorkflow 3.2 runs an event subprocess that starts on a timer (or a condition) as a subworkflow that
is open from the start, waiting at its start event; the scope's end join then waits for it, so a process
whose flow has reached its end events went on waiting for the next timer (for ever with a cycle). In
Camunda the scope ends when its flow is done and no event subprocess instance is running: the start event
subscriptions go with it. Here: when a scope's end join waits only on event subprocesses that nothing has
started (their start event still waiting), those are cancelled and the join goes on.
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.control import _EndJoin
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.util.task import TaskState

_OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def _untriggered(workflow: Any, task: Any) -> bool:
    """An event subprocess task (SpiffWorkflow hangs those, and nothing else, off the scope's root task)
    whose subworkflow does nothing but wait at its start events."""
    if not isinstance(task.task_spec, SubWorkflowTask) or task.parent is not workflow.task_tree:
        return False
    sub = workflow.top_workflow.subprocesses.get(task.id)
    if sub is None:
        return True
    open_tasks = [t for t in sub.tasks.values() if t.has_state(_OPEN) and t.task_spec.bpmn_id]
    return all(isinstance(t.task_spec, StartEvent) and t.state == TaskState.WAITING for t in open_tasks)


def close_finished_scopes(workflow: Any) -> bool:
    """Cancel the idle event subprocesses of every scope whose flow has ended; True if any was closed."""
    closed = False
    for scope in [workflow, *workflow.subprocesses.values()]:
        joins = [t for t in scope.tasks.values() if isinstance(t.task_spec, _EndJoin) and t.state == TaskState.WAITING]
        if not joins:
            continue
        pending = [t for t in scope.tasks.values() if t.has_state(_OPEN) and not isinstance(t.task_spec, _EndJoin)]
        if not pending or not all(_untriggered(scope, t) for t in pending):
            continue
        for task in pending:
            task.cancel()
        for join in joins:
            if join.state == TaskState.WAITING:
                join.task_spec._update(join)
        closed = True
    return closed
