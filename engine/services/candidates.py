"""Who may work a task: its lane, camunda:candidateGroups/candidateUsers and camunda:assignee, expressions resolved."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _resolve(raw: str | None, data: Mapping[str, Any]) -> list[str]:
    """A comma-separated list, or a `${...}` expression over task data giving a string or a list."""
    if not raw:
        return []
    text = raw.strip()
    if ("${" in text or "#{" in text) and not text.startswith(("${", "#{")):
        return [part.strip() for part in _template(text, data).split(",") if part.strip()]
    if text.startswith(("${", "#{")):
        from engine.expressions import ExpressionError, compile_expression

        try:
            value = compile_expression(text).evaluate(data, missing_as_none=True)
        except ExpressionError:
            return []
        if value is None:
            return []
        items = value if isinstance(value, list | tuple | set) else str(value).split(",")
        return [str(v).strip() for v in items if str(v).strip()]
    return [part.strip() for part in text.split(",") if part.strip()]


def _template(text: str, data: Mapping[str, Any]) -> str:
    """Text with `${...}` parts (`kermit_${loopCounter}`); a part that cannot be worked out gives ''."""
    import re

    from engine.expressions import ExpressionError, compile_expression

    def part(match: re.Match[str]) -> str:
        try:
            value = compile_expression(match.group(1)).evaluate(data, missing_as_none=True)
        except ExpressionError:
            return ""
        return "" if value is None else str(value)

    return re.sub(r"[$#]\{([^{}]*)\}", part, text)


def candidates(user_task: Any, data: Mapping[str, Any]) -> tuple[list[str], list[str], str | None]:
    """(candidate groups, candidate users, assignee) for one ready task; the lane name counts as a group."""
    groups = [user_task.lane] if user_task.lane else []
    for raw in user_task.candidate_groups:
        for group in _resolve(raw, data):
            if group not in groups:
                groups.append(group)
    users: list[str] = []
    for raw in user_task.candidate_users:
        users.extend(u for u in _resolve(raw, data) if u not in users)
    assignee = _resolve(user_task.assignee, data)
    return groups, users, assignee[0] if assignee else None
