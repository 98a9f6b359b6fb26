"""The rules that decide whether a deployment may be deleted (engine/deployments/deletion.py), as data."""
from __future__ import annotations

import pytest

from engine.deployments.deletion import Created, Facts, listing, refusals

DRAFT = Created("a.bpmn", "process", "a", 1, "p1", "draft")
FORM = Created("a.form", "form", "f", 2, "r1")


def kinds(facts: Facts, cascade: bool = False) -> list[str]:
    return [r.kind for r in refusals(facts, cascade=cascade)]


def test_drafts_without_incidents_may_go() -> None:
    assert kinds(Facts([DRAFT, FORM], finished_test_incidents=3)) == []


@pytest.mark.parametrize("status", ["in_review", "tested", "approved", "active", "retired", "rejected"])
def test_a_version_that_entered_review_refuses_it_even_with_cascade(status: str) -> None:
    facts = Facts([Created("a.bpmn", "process", "a", 4, "p4", status)])
    [refusal] = refusals(facts, cascade=True)
    assert refusal.kind == "governance" and status in refusal.message and "version 4" in refusal.message
    assert ("takes live incidents" in refusal.message) == (status == "active")


def test_unfinished_test_incidents_need_cascade_and_live_ones_never_go() -> None:
    assert kinds(Facts([DRAFT], unfinished_test_incidents=2)) == ["cascade"]
    assert kinds(Facts([DRAFT], unfinished_test_incidents=2), cascade=True) == []
    assert kinds(Facts([DRAFT], live_incidents=1), cascade=True) == ["incidents"]


def test_callers_outside_shared_versions_and_decisions_in_use_each_refuse() -> None:
    facts = Facts([DRAFT, FORM], called_from_outside=["i9"], listed_elsewhere={"r1": ["d2", "d1"]},
                  in_use=["a.form: form 'f' version 2 is used by 1 unfinished incident(s) of other deployments"])
    found = refusals(facts, cascade=True)
    assert [r.kind for r in found] == ["called", "shared", "in_use"]
    assert "d1, d2" in found[1].message and "form 'f' version 2" in found[1].message
    assert "i9" in found[0].message


def test_the_record_marks_what_went() -> None:
    entries = [{"id": "p1", "filename": "a.bpmn"}, {"id": "old", "filename": "b.form"}]
    assert [e["removed"] for e in listing(entries, {"p1"})] == [True, False]
