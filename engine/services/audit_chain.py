"""Verifying the audit hash chain: one incident's (for the API) or every incident's (for the CLI)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection

from engine.db import audit_rows
from engine.identity.principal import Principal
from engine.records import chain, keys

from .audit import require_readable
from .engine_app import IncidentEngine


def report(verdict: chain.Verdict) -> dict[str, Any]:
    broken = verdict.broken
    return {
        "incident_id": verdict.incident_id, "valid": verdict.valid, "rows": verdict.rows,
        "chained": verdict.rows - verdict.unchained, "unchained": verdict.unchained, "head_seq": verdict.head_seq,
        "first_broken": None if broken is None else
        {"seq": broken.seq, "audit_id": broken.audit_id, "reason": broken.reason},
    }


def _verify(conn: Connection, incident_id: str) -> chain.Verdict:
    head = audit_rows.head(conn, incident_id)  # before the rows: appends may go on while we read
    return chain.verify(keys.for_connection(conn), incident_id, audit_rows.chain_rows(conn, incident_id), head,
                        reread=lambda: audit_rows.head(conn, incident_id))


def verify_incident(engine: IncidentEngine, incident_id: str, *,
                    principal: Principal | None = None) -> dict[str, Any]:
    """Recompute one incident's chain; whoever may read its trail may check it."""
    with engine.uow(write=False) as uow:
        require_readable(uow.conn, incident_id, principal)
        return report(_verify(uow.conn, incident_id))


def verify_all(engine: IncidentEngine, incident_id: str | None = None) -> Iterator[dict[str, Any]]:
    """Every chained incident's verdict (or just `incident_id`'s), in id order: for the operator's CLI."""
    if incident_id is not None:
        with engine.uow(write=False) as uow:
            yield report(_verify(uow.conn, incident_id))
        return
    after = ""
    while True:
        with engine.uow(write=False) as uow:
            ids = audit_rows.chained_incidents(uow.conn, after=after)
            verdicts = [report(_verify(uow.conn, i)) for i in ids]
        yield from verdicts
        if len(ids) < 500:
            return
        after = ids[-1]
