"""The parallel-join merge rule: last writer wins per key, deletions persist, values replaced whole."""
from engine.runtime.merge import branch_changes, merge_branches

BASE = {"priority": "P2", "customer_id": "C", "notes": ["logged"], "meta": {"severity": "low", "tags": ["a"]}}


def test_changes_are_measured_against_the_split() -> None:
    written, deleted = branch_changes(BASE, {**BASE, "priority": "P1", "new": 1})
    assert written == {"priority": "P1", "new": 1}
    assert deleted == set()


def test_a_deleted_key_stays_deleted() -> None:
    notify = dict(BASE)
    diagnose = {k: v for k, v in BASE.items() if k != "customer_id"}
    assert "customer_id" not in merge_branches(BASE, [notify, diagnose])
    assert "customer_id" not in merge_branches(BASE, [diagnose, notify])


def test_lists_are_replaced_whole_even_with_duplicate_values() -> None:
    diagnose = {**BASE, "notes": ["logged", "logged", "called back"]}
    merged = merge_branches(BASE, [dict(BASE), diagnose])
    assert merged["notes"] == ["logged", "logged", "called back"]


def test_nested_edits_survive_and_branch_data_is_not_mutated() -> None:
    diagnose = {**BASE, "meta": {"severity": "critical", "tags": ["a", "b"]}}
    merged = merge_branches(BASE, [dict(BASE), diagnose])
    assert merged["meta"] == {"severity": "critical", "tags": ["a", "b"]}
    merged["meta"]["tags"].append("c")
    assert diagnose["meta"]["tags"] == ["a", "b"]


def test_the_branch_that_finished_last_wins_a_conflict() -> None:
    first = {**BASE, "priority": "P1"}
    second = {**BASE, "priority": "P3"}
    assert merge_branches(BASE, [first, second])["priority"] == "P3"
    assert merge_branches(BASE, [second, first])["priority"] == "P1"


def test_an_unchanged_branch_does_not_revert_another_branch() -> None:
    changed = {**BASE, "priority": "P1"}
    assert merge_branches(BASE, [changed, dict(BASE)])["priority"] == "P1"
