"""Recording a check transition: its check_results row, and the audit data with its attempt number."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from engine.db import check_rows
from engine.runtime.transitions import Transition

if TYPE_CHECKING:
    from .recording import Step


def record_check(conn: Connection, step: Step, transition: Transition) -> dict[str, Any]:
    """Insert the result row; return the audit data (the transition's, plus `attempt`).

    An evaluation is attempt n when the check was evaluated n-1 times before in this incident; an override
    carries the number of the failed attempt it overrides.
    """
    data = dict(transition.data or {})
    name = str(data.get("check"))
    before = check_rows.evaluations(conn, step.incident["id"], name)
    data["attempt"] = before if transition.kind == "check_overridden" else before + 1
    check_rows.insert(conn, {
        "incident_id": step.incident["id"], "procedure_key": step.runtime.key,
        "procedure_version": step.runtime.version, "check_name": name, "gateway_id": transition.element_id,
        "attempt": data["attempt"], "outcome": transition.to_state, "flow_id": data.get("flow"),
        "check_values": data.get("values"), "actor": step.actor, "reason": data.get("reason"), "at": step.at,
        "test": step.test,
    })
    return data
