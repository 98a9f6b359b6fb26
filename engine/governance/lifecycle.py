"""The lifecycle of a procedure version as data: which action moves which status to which.

draft -> in_review -> tested -> approved -> active -> retired, and rejected from in_review or tested.
`mark_tested` is taken by the engine itself when a passing fitness test at the declared peak is stored
for a version in review; every other action is an explicit API call. Rejected and retired are final.
"""
from __future__ import annotations

from engine.errors import Conflict

STATUSES = ("draft", "in_review", "tested", "approved", "active", "retired", "rejected")
FINAL = frozenset({"retired", "rejected"})

# action -> (statuses it may be taken from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({"draft"}), "in_review"),
    "mark_tested": (frozenset({"in_review"}), "tested"),
    "approve": (frozenset({"tested"}), "approved"),
    "reject": (frozenset({"in_review", "tested"}), "rejected"),
    "activate": (frozenset({"approved"}), "active"),
    "retire": (frozenset({"active"}), "retired"),
}
ACTIONS = tuple(TRANSITIONS)
# actions the engine takes on its own; they are not offered to callers as next steps
AUTOMATIC = frozenset({"mark_tested"})


def allowed_actions(status: str, *, include_automatic: bool = False) -> list[str]:
    """The actions that may be taken from `status`, in lifecycle order."""
    return [action for action, (sources, _target) in TRANSITIONS.items()
            if status in sources and (include_automatic or action not in AUTOMATIC)]


def transition(status: str, action: str) -> str:
    """The status after `action`; a Conflict naming the allowed actions when it is not allowed from `status`."""
    if action not in TRANSITIONS:
        raise Conflict(f"unknown lifecycle action {action!r}", current_status=status, action=action,
                       allowed=allowed_actions(status))
    sources, target = TRANSITIONS[action]
    if status not in sources:
        allowed = allowed_actions(status)
        offered = ", ".join(allowed) if allowed else "none (the status is final)"
        raise Conflict(f"cannot {action.replace('_', ' ')} a version that is {status}; allowed: {offered}",
                       current_status=status, action=action, allowed=allowed)
    return target
