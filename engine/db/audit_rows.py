"""The append-only audit trail: inserts (sealed into each incident's hash chain) and reads; the one update
is erasing a personal payload, and rows are deleted only with a test incident."""
from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from engine import observe
from engine.errors import Conflict
from engine.records import chain, keys

from . import pipeline
from .prebuilt import Prebuilt
from .tables import audit, audit_chain_heads

HEADS = "chain_heads"  # conn.info: (transaction, heads it read or moved); popped by engine.db.uow


def known_heads(conn: Connection) -> dict[str, tuple[int, str]]:
    """The chain heads this transaction has read or moved, by incident id (empty in a new transaction)."""
    transaction = conn.get_transaction()
    entry = conn.info.get(HEADS)
    if entry is None or entry[0] is not transaction:
        entry = conn.info[HEADS] = (transaction, {})
    return entry[1]  # type: ignore[no-any-return]


def _moved() -> BaseException:
    return Conflict("the incident's audit trail moved while this request ran; reload and retry")


def append(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert `rows`, each sealed into its incident's chain (in the order given).

    A head this transaction already read (with the incident's lock: engine.db.transition_rows) or moved is
    not read again; the head then moves only if it is still where it was read (else a Conflict, at once or
    when the transition's pipelined writes come back). Other heads are locked and read here."""
    if not rows:
        return
    key = keys.for_connection(conn)
    by_incident: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        row.setdefault("personal", None)
        row.setdefault("test", False)
        by_incident.setdefault(row["incident_id"], []).append(row)
    postgres = conn.dialect.name == "postgresql"
    known = known_heads(conn)
    for incident_id, own in by_incident.items():
        before = known.get(incident_id) or _lock_head(conn, incident_id)
        head = known[incident_id] = chain.seal(key, before, own)
        if postgres:  # the rows and the head in one prepared statement: one round trip fewer per transition
            pipeline.write(conn, _PG_APPEND, {"rows": json.dumps([_pg_row(r) for r in own]), "seq": head[0],
                                              "hash": head[1], "incident_id": incident_id, "old_seq": before[0]},
                           expect=len(own), missed=_moved)
    if not postgres:
        conn.execute(audit.insert(), rows)
        for incident_id, own in by_incident.items():
            pipeline.write(conn, update(audit_chain_heads)
                           .where(audit_chain_heads.c.incident_id == incident_id,
                                  audit_chain_heads.c.seq == own[0]["seq"] - 1)
                           .values(seq=own[-1]["seq"], hash=own[-1]["hash"]), expect=1, missed=_moved)
    observe.note_audit(conn, rows)


_TYPES = {"incident_id": "text", "procedure_key": "text", "procedure_version": "integer", "kind": "text",
          "task_id": "text", "element_id": "text", "element_name": "text", "element_type": "text",
          "from_state": "text", "to_state": "text", "actor": "text", "at": "timestamptz", "data": "jsonb",
          "test": "boolean", "seq": "integer", "hash": "text", "personal": "jsonb", "personal_mac": "text"}
# One fixed statement (so PostgreSQL keeps it prepared): the head moves only from where it was read, and
# only then go the sealed rows (a JSON array) in; its row count is theirs, or 0 when another append came first.
_PG_APPEND = Prebuilt(text(
    "WITH moved AS (UPDATE audit_chain_heads SET seq = :seq, hash = :hash "
    "WHERE incident_id = :incident_id AND seq = :old_seq RETURNING 1) "
    f"INSERT INTO audit ({', '.join(_TYPES)}) "
    f"SELECT {', '.join('coalesce(r.data, ' + repr('null') + '::jsonb)' if c == 'data' else 'r.' + c for c in _TYPES)} "
    f"FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r({', '.join(f'{c} {t}' for c, t in _TYPES.items())}) "
    "WHERE EXISTS (SELECT 1 FROM moved)"))


def _pg_row(row: dict[str, Any]) -> dict[str, Any]:
    out = {c: row.get(c) for c in _TYPES}
    out["at"] = chain.timestamp(row["at"])
    out["test"] = bool(out["test"])
    return out


def _lock_head(conn: Connection, incident_id: str) -> tuple[int, str]:
    """The incident's chain head, locked until the transaction ends; one statement, created if missing."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(audit_chain_heads).values(incident_id=incident_id, seq=0, hash=chain.GENESIS)
    stmt = stmt.on_conflict_do_update(index_elements=[audit_chain_heads.c.incident_id],
                                      set_={"seq": audit_chain_heads.c.seq})  # a no-op write: it takes the lock
    found = conn.execute(stmt.returning(audit_chain_heads.c.seq, audit_chain_heads.c.hash)).one()
    return int(found[0]), str(found[1])


def head(conn: Connection, incident_id: str) -> tuple[int, str] | None:
    found = conn.execute(select(audit_chain_heads.c.seq, audit_chain_heads.c.hash)
                         .where(audit_chain_heads.c.incident_id == incident_id)).one_or_none()
    return (int(found[0]), str(found[1])) if found else None


def chained_incidents(conn: Connection, *, after: str = "", limit: int = 500) -> list[str]:
    """Incident ids that have a chain, in id order (for verifying the whole trail in batches)."""
    query = (select(audit_chain_heads.c.incident_id).where(audit_chain_heads.c.incident_id > after)
             .order_by(audit_chain_heads.c.incident_id).limit(limit))
    return list(conn.execute(query).scalars())


def chain_rows(conn: Connection, incident_id: str) -> Iterable[dict[str, Any]]:
    """One incident's rows in chain order, streamed in pages: by id, which follows `seq` because appends to
    one incident queue on its chain head."""
    after_id = 0
    while True:
        batch = for_incident(conn, incident_id, after_id=after_id)
        yield from batch
        if len(batch) < 1000:
            return
        after_id = batch[-1]["id"]


def erase_personal(conn: Connection, incident_ids: list[str]) -> int:
    """Drop the personal payloads of these incidents' rows (their MACs stay, so the chain holds); the count."""
    if not incident_ids:
        return 0
    result = conn.execute(update(audit).where(audit.c.incident_id.in_(incident_ids), audit.c.personal.is_not(None))
                          .values(personal=None))
    return int(result.rowcount or 0)


def count(conn: Connection, incident_id: str) -> int:
    return int(conn.execute(select(func.count()).select_from(audit).where(audit.c.incident_id == incident_id))
               .scalar_one())


def for_incident(conn: Connection, incident_id: str, *, after_id: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
    query = (select(audit).where(audit.c.incident_id == incident_id, audit.c.id > after_id)
             .order_by(audit.c.id).limit(limit))
    return [dict(r) for r in conn.execute(query).mappings()]


def page(conn: Connection, *, procedure: str | None, since: datetime | None, after_id: int,
         limit: int, test: bool | None = False) -> list[dict[str, Any]]:
    query = select(audit).where(audit.c.id > after_id)
    if test is not None:
        query = query.where(audit.c.test == test)
    if procedure:
        query = query.where(audit.c.procedure_key == procedure)
    if since is not None:
        query = query.where(audit.c.at >= since)
    return [dict(r) for r in conn.execute(query.order_by(audit.c.id).limit(limit)).mappings()]
