"""The activation briefing: outlines of two versions compared, and the briefing rendered as JSON and Markdown."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from engine.bpmn.parser import load_procedure
from engine.governance import briefing, briefing_markdown
from engine.governance.outline import audience, outline, purpose_of

BUNDLED = Path(__file__).resolve().parent.parent.parent / "bpmn"


def _outline(data: bytes) -> dict[str, Any]:
    definition = load_procedure(data)
    return outline(definition, purpose_of(data, definition.key))


def test_the_outline_of_the_major_incident_names_its_tasks_checks_timers_and_groups() -> None:
    found = _outline((BUNDLED / "major_incident.bpmn").read_bytes())
    assert found["purpose"].startswith("Major incident: log, triage")
    assert found["checks"]["triage_complete"]["gateway"] == "Gateway_TriageCheck"
    assert found["checks"]["triage_complete"]["on_fail"] == "Task_VerifyCallerIdentity"
    timer = found["timers"]["BoundaryEvent_DiagnosisSla"]
    assert timer["attached_to"] == "Task_Diagnose" and timer["sla"] and timer["interrupting"] is False
    assert found["tasks"]["Task_NotifyStakeholders"]["kind"] == "service"
    assert audience(found) == ["service-desk", "incident-managers", "resolvers", "communications"]


def test_a_first_version_counts_everything_as_added() -> None:
    current = _outline((BUNDLED / "major_incident.bpmn").read_bytes())
    changes = briefing.diff(None, current)
    assert changes["first_version"] is True
    assert len(changes["tasks"]["added"]) == len(current["tasks"])
    assert [c["check"] for c in changes["checks"]["added"]] == ["triage_complete"]
    assert changes["tasks"]["removed"] == changes["tasks"]["changed"] == []


def test_tasks_checks_and_timers_added_removed_and_changed() -> None:
    before = {
        "tasks": {"T1": {"name": "Log", "lane": "desk", "fields": [{"id": "a", "type": "string", "required": False}]},
                  "T2": {"name": "Old", "lane": "desk"}},
        "checks": {"c1": {"gateway": "G1", "pass_condition": "${ok}"}, "c2": {"gateway": "G2"}},
        "timers": {"B1": {"expression": "PT4H", "interrupting": False}},
    }
    after = copy.deepcopy(before)
    del after["tasks"]["T2"]
    after["tasks"]["T3"] = {"name": "New", "lane": "managers"}
    after["tasks"]["T1"]["lane"] = "managers"
    after["tasks"]["T1"]["fields"] = [{"id": "a", "type": "string", "required": True},
                                      {"id": "b", "type": "boolean", "required": True}]
    after["checks"]["c1"]["pass_condition"] = "${ok and verified}"
    del after["checks"]["c2"]
    after["checks"]["c3"] = {"gateway": "G3"}
    after["timers"]["B1"]["expression"] = "PT2H"
    after["timers"]["B2"] = {"expression": "P8W"}
    changes = briefing.diff(before, after)
    assert [t["id"] for t in changes["tasks"]["added"]] == ["T3"]
    assert [t["id"] for t in changes["tasks"]["removed"]] == ["T2"]
    (t1,) = changes["tasks"]["changed"]
    assert t1["changes"] == ["lane changed from 'desk' to 'managers'", "form field b added (required)",
                             "form field a is now required"]
    assert [c["check"] for c in changes["checks"]["added"]] == ["c3"]
    assert [c["check"] for c in changes["checks"]["removed"]] == ["c2"]
    assert changes["checks"]["changed"][0]["changes"] == [
        "pass condition changed from '${ok}' to '${ok and verified}'"]
    assert changes["timers"]["changed"][0]["changes"] == ["deadline changed from 'PT4H' to 'PT2H'"]
    assert [t["id"] for t in changes["timers"]["added"]] == ["B2"]
    assert briefing.count_changes(changes) == 8


def test_a_real_edit_of_the_bundled_file_is_briefed_in_json_and_markdown() -> None:
    data = (BUNDLED / "major_incident.bpmn").read_bytes()
    edited = data.replace(b"'P1': 'PT30M'", b"'P1': 'PT15M'").replace(b'name="Debrief"', b'name="Debrief and close"')
    old, new = _outline(data), _outline(edited)
    objectives = [{"id": "o1", "name": "Restore service fast", "description": "P1 within the hour",
                   "strategy": {"id": "s1", "name": "Resilience"},
                   "criteria": [{"text": "95th percentile of cycle time at most PT1H"}]}]
    result = briefing.build(new, version=2, previous=old, previous_version=1, objectives=objectives,
                            activated_at="2026-01-01T00:00:00+00:00", activated_by="ann")
    assert result["audience"] == ["service-desk", "incident-managers", "resolvers", "communications"]
    assert result["changes"]["timers"]["changed"][0]["id"] == "BoundaryEvent_DiagnosisSla"
    assert result["changes"]["tasks"]["changed"][0]["changes"] == [
        "name changed from 'Debrief' to 'Debrief and close'"]
    assert result["change_count"] == 2
    text = briefing_markdown.render(result)
    assert text.startswith("# Major incident — version 2 is now live")
    assert "**Purpose.** Major incident" in text
    assert "- **Restore service fast** (strategy: Resilience): P1 within the hour" in text
    assert "  - target: 95th percentile of cycle time at most PT1H" in text
    assert "## What changed since version 1" in text
    assert "PT15M" in text and "Debrief and close" in text


def test_markdown_of_an_unchanged_version_says_so() -> None:
    current = {"key": "k", "name": "K", "tasks": {}, "checks": {}, "timers": {}, "lanes": []}
    result = briefing.build(current, version=3, previous=current, previous_version=2, objectives=[],
                            activated_at="2026-01-01T00:00:00+00:00", activated_by=None)
    text = briefing_markdown.render(result)
    assert "No tasks, checks or timers changed." in text and "- none declared" in text
