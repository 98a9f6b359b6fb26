"""Stuck incidents: running, yet nothing can ever move them on (no task, timer, awaited event or delivery).

A join that can never fire, or any shape SpiffWorkflow leaves waiting on nothing, used to leave an incident
`running` forever with no open task and no error. At the end of every transition the outcome is checked;
such an incident becomes `stalled`, with the reason, and is listed for supervisors (status=stalled).
"""
from __future__ import annotations

from typing import Any

REASON = ("the incident is running but waits on nothing: no open task, no pending timer, no awaited message "
          "or signal, no condition, no delivery or external task; nothing can move it on")


def stall_reason(outcome: Any) -> str | None:
    """Why the outcome of a transition is stuck, or None when something can still move it on."""
    if outcome.status != "running":
        return None
    if outcome.open_tasks or outcome.timers or outcome.next_timer_at is not None or outcome.waits \
            or outcome.services or getattr(outcome, "conditions", None):
        return None
    return REASON
