"""The activation briefing rendered as Markdown, for people reading it in chat, e-mail or a wiki."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_PARTS = (("tasks", "Tasks", "id"), ("checks", "Checks", "check"), ("timers", "Timers", "id"))


def _label(entry: Mapping[str, Any], key: str) -> str:
    name = entry.get("name")
    text = f"`{entry[key]}`" + (f" {name}" if name and name != entry[key] else "")
    if entry.get("expression"):
        text += f" (deadline `{entry['expression']}`)"
    return text


def _changes(changes: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    for part, title, key in _PARTS:
        section = changes[part]
        if not any(section[kind] for kind in ("added", "removed", "changed")):
            continue
        lines += [f"### {title}", ""]
        lines += [f"- added: {_label(e, key)}" for e in section["added"]]
        lines += [f"- removed: {_label(e, key)}" for e in section["removed"]]
        for entry in section["changed"]:
            lines.append(f"- changed: {_label(entry, key)}: " + "; ".join(entry["changes"]))
        lines.append("")
    return lines or ["No tasks, checks or timers changed.", ""]


def render(briefing: Mapping[str, Any]) -> str:
    """The briefing as a Markdown document."""
    proc = briefing["procedure"]
    lines = [f"# {proc.get('name') or proc['key']} — version {proc['version']} is now live", ""]
    if proc.get("purpose"):
        lines += [f"**Purpose.** {proc['purpose']}", ""]
    by = f" by {briefing['activated_by']}" if briefing.get("activated_by") else ""
    lines += [f"Activated {briefing['activated_at']}{by}. New incidents use this version; incidents already "
              "running finish on the version they started with.", ""]
    lines += [f"**For:** {', '.join(briefing['audience']) or 'everyone'}", ""]
    lines += ["## Objectives it serves", ""]
    for objective in briefing["objectives"]:
        strategy = objective.get("strategy") or {}
        lines.append(f"- **{objective['name']}**" + (f" (strategy: {strategy['name']})" if strategy.get("name") else "")
                     + (f": {objective['description']}" if objective.get("description") else ""))
        lines += [f"  - target: {c['text']}" for c in objective.get("criteria", [])]
    if not briefing["objectives"]:
        lines.append("- none declared")
    lines.append("")
    if briefing.get("required_checks"):
        lines += [f"**Mandatory checks:** {', '.join(briefing['required_checks'])}", ""]
    previous = briefing.get("previous_version")
    lines += ["## What changed" + (f" since version {previous}" if previous else " (first active version)"), ""]
    lines += _changes(briefing["changes"])
    return "\n".join(lines).rstrip() + "\n"
