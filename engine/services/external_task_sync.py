"""Keeping the external_tasks table in step with a transition: new pulled service tasks, and ended ones.

A started `camunda:type="external"` service task whose topic is pulled gets one row, ever (a later
transition of the same incident sees it still started and finds the row). A service task that ends
without its worker (an interrupting boundary event, a cancelled incident) closes its row as `cancelled`.
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection

from engine.db import external_task_rows
from engine.runtime.runner import Outcome, StartedService


def sync_external_tasks(conn: Connection, step: Any, outcome: Outcome, pulled: list[StartedService]) -> None:
    ended = [tr.task_id for tr in outcome.transitions
             if tr.to_state == "cancelled" and step.runtime.is_external(tr.element_id)]
    external_task_rows.end(conn, ended, "cancelled", step.at)
    known = external_task_rows.existing(conn, [s.task_id for s in pulled])
    for service in pulled:
        step.queued.add(service.task_id)
        if service.task_id in known:
            continue
        node = step.runtime.definition.nodes[service.element_id]
        priority = node.properties.get("priority") or node.properties.get("taskPriority") or "0"
        external_task_rows.insert(conn, {
            "id": service.task_id, "incident_id": step.incident["id"], "procedure_id": step.runtime.id,
            "procedure_key": step.runtime.key, "procedure_version": step.runtime.version,
            "reference": step.incident.get("reference"), "element_id": service.element_id,
            "element_name": node.name, "topic": service.topic, "state": "open",
            "priority": int(priority) if priority.lstrip("-").isdigit() else 0,
            "variables": json.loads(json.dumps(service.data, default=str)), "properties": dict(node.properties), "created_at": step.at,
        })
