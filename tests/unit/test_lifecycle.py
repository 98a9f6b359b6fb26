"""The procedure lifecycle: every allowed transition and every refused one."""
from __future__ import annotations

import itertools

import pytest

from engine.errors import Conflict
from engine.governance.lifecycle import ACTIONS, STATUSES, allowed_actions, transition

ALLOWED = {
    ("draft", "submit"): "in_review",
    ("in_review", "mark_tested"): "tested",
    ("in_review", "reject"): "rejected",
    ("tested", "approve"): "approved",
    ("tested", "reject"): "rejected",
    ("approved", "activate"): "active",
    ("active", "retire"): "retired",
}
REFUSED = [pair for pair in itertools.product(STATUSES, ACTIONS) if pair not in ALLOWED]


@pytest.mark.parametrize(("status", "action"), list(ALLOWED))
def test_allowed_transition(status: str, action: str) -> None:
    assert transition(status, action) == ALLOWED[(status, action)]


@pytest.mark.parametrize(("status", "action"), REFUSED)
def test_refused_transition_is_a_conflict_naming_the_allowed_actions(status: str, action: str) -> None:
    with pytest.raises(Conflict) as caught:
        transition(status, action)
    assert caught.value.extra["allowed"] == allowed_actions(status)
    assert caught.value.extra["current_status"] == status
    assert status in caught.value.detail


def test_the_table_covers_every_pair() -> None:
    assert len(ALLOWED) + len(REFUSED) == len(STATUSES) * len(ACTIONS) == 42


@pytest.mark.parametrize(("status", "expected"), [
    ("draft", ["submit"]), ("in_review", ["reject"]), ("tested", ["approve", "reject"]),
    ("approved", ["activate"]), ("active", ["retire"]), ("retired", []), ("rejected", []),
])
def test_allowed_actions_leave_out_the_automatic_one(status: str, expected: list[str]) -> None:
    assert allowed_actions(status) == expected


def test_in_review_may_be_marked_tested_by_the_engine() -> None:
    assert allowed_actions("in_review", include_automatic=True) == ["mark_tested", "reject"]


def test_final_statuses_say_so() -> None:
    with pytest.raises(Conflict, match="final"):
        transition("retired", "activate")


def test_unknown_action() -> None:
    with pytest.raises(Conflict, match="unknown"):
        transition("draft", "publish")
