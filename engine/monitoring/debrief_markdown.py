"""A debrief record as Markdown, for the debriefing session's notes and the incident file."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from .stats import human


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    if not rows:
        return ["_None._", ""]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def _detail(row: Mapping[str, Any]) -> str:
    data = row.get("data") or {}
    if row["kind"] == "gateway":
        return "took " + ", ".join(str(t.get("name") or t.get("flow")) for t in data.get("taken", []))
    if row["kind"].startswith("check_"):
        return f"{data.get('check')} attempt {data.get('attempt')}" + \
            (f": {data.get('reason')}" if data.get("reason") else "")
    if row["kind"] == "sla_breached":
        return f"late by {human(data.get('late_by'))}"
    if row["kind"] in ("incident_cancelled", "incident_error"):
        return str(data.get("reason") or "")
    return ""


def render(record: Mapping[str, Any]) -> str:
    """The whole record: summary, debrief outcome, phases, checks, SLA breaches, people, timeline."""
    incident, debrief = record["incident"], record["debrief"]
    title = incident.get("reference") or incident["id"]
    lines = [f"# Debrief: {_cell(incident.get('summary') or title)}", "",
             f"- Incident: `{incident['id']}`" + (f" (reference {incident['reference']})" if incident.get("reference")
                                                  else ""),
             f"- Procedure: {incident.get('procedure')} v{incident.get('version')}",
             f"- Priority: {_cell(incident.get('priority'))}; major because {record.get('major_because') or 'n/a'}",
             f"- Status: {incident.get('status')}; started {_cell(incident.get('started_at'))}, ended "
             f"{_cell(incident.get('ended_at'))}; duration {human(incident.get('duration_s'))}", "",
             "## Lessons learned", "", _cell(debrief.get("lessons_learned")) if debrief.get("lessons_learned")
             else "_Not recorded yet._", "", "## Agreed actions", ""]
    lines += _table(["Action", "Owner", "Due"], [(a["action"], a.get("owner"), a.get("due"))
                                                 for a in debrief.get("actions", [])])
    lines += ["## Phases", ""]
    lines += _table(["Task", "Lane", "Ready", "Ended", "Outcome", "Duration", "By"],
                    [(p.get("name") or p["element_id"], p.get("lane"), p["ready_at"], p["ended_at"], p["outcome"],
                      human(p["duration_s"]), p.get("actor")) for p in record["phases"]])
    lines += ["## Time per lane", ""]
    lines += _table(["Lane", "Duration"], [(lane["lane"], human(lane["duration_s"])) for lane in record["lanes"]])
    lines += ["## Checks failed", ""]
    lines += _table(["At", "Check", "Attempt", "Values", "By"],
                    [(c["at"], c["check"], c["attempt"], c.get("values"), c.get("actor"))
                     for c in record["checks_failed"]])
    lines += ["## Checks overridden", ""]
    lines += _table(["At", "Check", "Attempt", "By", "Reason"],
                    [(o["at"], o["check"], o["attempt"], o.get("actor"), o.get("reason")) for o in record["overrides"]])
    lines += ["## SLA breaches", ""]
    lines += _table(["At", "Timer", "Due", "Late by"],
                    [(s["at"], s.get("name") or s.get("element_id"), s.get("due_at"), human(s.get("late_by")))
                     for s in record["sla_breaches"]])
    lines += ["## Who took part", ""]
    lines += _table(["Who", "Transitions", "Tasks completed", "First", "Last"],
                    [(p["actor"], p["transitions"], ", ".join(p["tasks_completed"]), p["first_at"], p["last_at"])
                     for p in record["participants"]])
    lines += ["## Timeline", ""]
    lines += _table(["At", "Event", "Element", "From", "To", "By", "Detail"],
                    [(t["at"], t["kind"], t.get("element_name") or t.get("element_id"), t.get("from_state"),
                      t.get("to_state"), t.get("actor"), _detail(t)) for t in record["timeline"]])
    return "\n".join(lines).rstrip() + "\n"
