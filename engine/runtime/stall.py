"""Stuck workflows: running, yet nothing can ever move them on (no task, timer, awaited event or delivery).

A join that can never fire, or a shape SpiffWorkflow 3.2 leaves waiting on nothing (an escalation caught by a
non-interrupting event subprocess, an error end event in a parallel branch), used to leave an incident
`running` forever with no open task and no error. One rule, applied by the runner at the end of every
transition and by the periodic sweep: such an incident becomes `stalled`, with the reason naming what is
still open, and is listed for supervisors (status=stalled); its tasks leave the queues.
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.util.task import TaskState  # type: ignore[import-untyped]


def stuck_reason(workflow: Any) -> str | None:
    """Why a running workflow with no open task, service, timer or awaited message/signal cannot go on, or
    None when it still waits on a condition (a conditional event: a later change of data may move it)."""
    from SpiffWorkflow.bpmn.specs.event_definitions.conditional import (  # type: ignore[import-untyped]
        ConditionalEventDefinition,
    )

    pending = workflow.get_tasks(state=TaskState.WAITING | TaskState.STARTED)
    if any(isinstance(getattr(spec, "event_definition", None), ConditionalEventDefinition)
           for t in pending for spec in (t.task_spec, *t.task_spec.outputs)):  # outputs: an event gateway's
        return None
    stuck = sorted({t.task_spec.bpmn_id for t in pending if t.task_spec.bpmn_id})
    return ("the incident is running but waits on nothing: no open task, no pending timer, no awaited message "
            f"or signal, no delivery or external task (nothing left to wait for; still open: "
            f"{', '.join(stuck) or 'nothing'}); nothing can move it on")


def stall_reason(outcome: Any) -> str | None:
    """The reason a transition's outcome is stalled (the runner set it), or None."""
    return outcome.error if outcome.status == "stalled" else None
