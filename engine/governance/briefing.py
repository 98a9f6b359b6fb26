"""The activation briefing: what a version is for and what changed against the version it replaces.

Pure: two outlines (see outline.py) in, a JSON-ready briefing out. Rendering it as Markdown is in
briefing_markdown.py.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .outline import audience

Changes = dict[str, list[Any]]


def _fields_changes(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[str]:
    old, new = {f["id"]: f for f in before}, {f["id"]: f for f in after}
    notes = [f"form field {fid} added" + (" (required)" if new[fid].get("required") else "")
             for fid in new if fid not in old]
    notes += [f"form field {fid} removed" for fid in old if fid not in new]
    for fid in (f for f in new if f in old):
        if old[fid].get("type") != new[fid].get("type"):
            notes.append(f"form field {fid} is now {new[fid].get('type')} (was {old[fid].get('type')})")
        if bool(old[fid].get("required")) != bool(new[fid].get("required")):
            notes.append(f"form field {fid} is now {'required' if new[fid].get('required') else 'optional'}")
    return notes


def _task_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    notes = [f"{label} changed from {old.get(key)!r} to {new.get(key)!r}"
             for key, label in (("name", "name"), ("lane", "lane"), ("kind", "kind"), ("topic", "topic"))
             if old.get(key) != new.get(key)]
    if sorted(old.get("candidate_groups", [])) != sorted(new.get("candidate_groups", [])):
        notes.append(f"candidate groups now {', '.join(new.get('candidate_groups', [])) or 'none'}")
    return notes + _fields_changes(old.get("fields", []), new.get("fields", []))


def _attribute_changes(labels: Sequence[tuple[str, str]]) -> Callable[[Mapping[str, Any], Mapping[str, Any]], list[str]]:
    def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
        return [f"{label} changed from {old.get(key)!r} to {new.get(key)!r}" for key, label in labels
                if old.get(key) != new.get(key)]
    return changes


_CHECK_CHANGES = _attribute_changes((("gateway", "gateway"), ("name", "name"),
                                     ("pass_condition", "pass condition"), ("on_fail", "rework/escalation target")))
_TIMER_CHANGES = _attribute_changes((("expression", "deadline"), ("kind", "timer kind"),
                                     ("attached_to", "attached to"), ("interrupting", "interrupting"),
                                     ("sla", "SLA flag"), ("name", "name")))


def _diff(before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]],
          changes: Callable[[Mapping[str, Any], Mapping[str, Any]], list[str]], label: str) -> Changes:
    def item(key: str, entry: Mapping[str, Any]) -> dict[str, Any]:
        return {label: key, **{k: v for k, v in entry.items() if k in ("name", "lane", "expression", "gateway")}}

    changed = []
    for key in (k for k in after if k in before):
        notes = changes(before[key], after[key])
        if notes:
            changed.append({**item(key, after[key]), "changes": notes})
    return {"added": [item(k, v) for k, v in after.items() if k not in before],
            "removed": [item(k, v) for k, v in before.items() if k not in after], "changed": changed}


def diff(previous: Mapping[str, Any] | None, current: Mapping[str, Any]) -> dict[str, Any]:
    """Tasks, checks and timers added, removed or changed; everything counts as added without a previous version."""
    before: Mapping[str, Any] = previous or {}
    return {
        "first_version": previous is None,
        "tasks": _diff(before.get("tasks", {}), current.get("tasks", {}), _task_changes, "id"),
        "checks": _diff(before.get("checks", {}), current.get("checks", {}), _CHECK_CHANGES, "check"),
        "timers": _diff(before.get("timers", {}), current.get("timers", {}), _TIMER_CHANGES, "id"),
    }


def count_changes(changes: Mapping[str, Any]) -> int:
    return sum(len(changes[part][kind]) for part in ("tasks", "checks", "timers")
               for kind in ("added", "removed", "changed"))


def build(current: Mapping[str, Any], *, version: int, previous: Mapping[str, Any] | None,
          previous_version: int | None, objectives: Sequence[Mapping[str, Any]], activated_at: str,
          activated_by: str | None) -> dict[str, Any]:
    """The briefing sent to every lane and candidate group when `version` becomes the active version."""
    changes = diff(previous, current)
    return {
        "procedure": {"key": current["key"], "version": version, "name": current.get("name"),
                      "purpose": current.get("purpose")},
        "previous_version": previous_version,
        "activated_at": activated_at, "activated_by": activated_by,
        "audience": audience(dict(current)),
        "objectives": [dict(o) for o in objectives],
        "required_checks": list(current.get("required_checks", [])),
        "changes": changes,
        "change_count": count_changes(changes),
    }
