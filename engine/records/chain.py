"""The audit hash chain: each row's keyed hash covers its fields, the MAC of its personal payload and the
previous row's hash, so an edited, removed or reordered row breaks every hash after it.

One chain per incident (not one for the whole trail): a transition already holds its own incident, so
chaining costs no lock beyond it and two incidents never wait on each other. Personal payloads enter only
through their MAC, so erasing a payload (and keeping the MAC) leaves the chain valid.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
# The fields a row's hash covers, in a fixed order; `id` is left out (the database assigns it after the
# hash is computed) and `seq` stands for the row's place in its incident's chain.
FIELDS = ("incident_id", "seq", "procedure_key", "procedure_version", "kind", "task_id", "element_id",
          "element_name", "element_type", "from_state", "to_state", "actor", "at", "data", "test",
          "personal_mac")


def _normal(value: Any) -> Any:
    """A JSON value as any database gives it back: PostgreSQL's jsonb reads 1.0 or 1e20 back as an integer."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return int(value) if value.is_integer() else value
    if kind is dict or isinstance(value, Mapping):
        return {str(k): _normal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normal(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def canonical(value: Any) -> bytes:
    """The one byte form of a JSON value that is hashed: sorted keys, no spaces, integral floats as ints."""
    return json.dumps(_normal(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str).encode()


def timestamp(value: datetime | str | None) -> str | None:
    """A timestamp as the chain hashes it (and as the database is given it): ISO 8601 in UTC, microseconds."""
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.isoformat(timespec="microseconds")
    return value


def personal_mac(key: bytes, personal: Any) -> str | None:
    """The keyed hash of a personal payload (None when there is none). Keyed, so the MAC that outlives an
    erasure does not let anyone confirm a guessed phone number or name."""
    if personal is None:
        return None
    return hmac.new(key, b"personal\x00" + canonical(personal), hashlib.sha256).hexdigest()


def row_hash(key: bytes, previous: str, row: Mapping[str, Any]) -> str:
    """The hash of `row` chained to `previous`. Keyed too: whoever can write to the database but does not
    hold the key cannot rebuild the chain after an edit."""
    fields = {name: row.get(name) for name in FIELDS}
    fields["at"] = timestamp(fields["at"])
    fields["test"] = bool(fields["test"])
    return hmac.new(key, previous.encode() + b"\x00" + canonical(fields), hashlib.sha256).hexdigest()


def seal(key: bytes, previous: tuple[int, str], rows: list[dict[str, Any]]) -> tuple[int, str]:
    """Give each row (in order) its `seq`, `personal_mac` and `hash`; returns the new head (seq, hash)."""
    seq, head = previous
    for row in rows:
        seq += 1
        row["seq"] = seq
        row["personal_mac"] = personal_mac(key, row.get("personal"))
        row["hash"] = head = row_hash(key, head, row)
    return seq, head


@dataclass(frozen=True)
class Break:
    """The first row where the chain does not hold, and why."""

    seq: int | None
    audit_id: int | None
    reason: str


@dataclass(frozen=True)
class Verdict:
    """What recomputing one incident's chain found."""

    incident_id: str
    rows: int
    unchained: int  # rows written before the chain existed (legacy rows, hash NULL)
    head_seq: int
    broken: Break | None

    @property
    def valid(self) -> bool:
        return self.broken is None


def verify(key: bytes, incident_id: str, rows: Iterable[Mapping[str, Any]], head: tuple[int, str] | None,
           reread: Callable[[], tuple[int, str] | None] | None = None) -> Verdict:
    """Recompute the chain of one incident's rows (in `seq` order) against the stored head.

    Read the head before the rows: rows beyond it were appended meanwhile, and `reread` gives the head
    again to check them against (without a transaction snapshot, as on an autocommit connection)."""
    seq, previous, count, unchained = 0, GENESIS, 0, 0
    for row in rows:
        count += 1
        if row.get("hash") is None:
            unchained += 1
            continue
        at_row = (row.get("seq"), row.get("id"))
        if row["seq"] != seq + 1:
            return Verdict(incident_id, count, unchained, seq, Break(*at_row, f"expected row {seq + 1} of the "
                           f"chain, found row {row['seq']}: a row is missing or out of order"))
        if row.get("personal") is not None and personal_mac(key, row["personal"]) != row.get("personal_mac"):
            return Verdict(incident_id, count, unchained, seq, Break(*at_row, "the personal payload does not "
                           "match its MAC: it was altered"))
        expected = row_hash(key, previous, row)
        if not hmac.compare_digest(expected, str(row["hash"])):
            return Verdict(incident_id, count, unchained, seq, Break(*at_row, "the row's hash does not match its "
                           "fields and the previous row: the row or one before it was altered"))
        seq, previous = seq + 1, expected
    stored = head or (0, GENESIS)
    if seq > stored[0] and reread is not None:
        stored = reread() or stored
        if stored[0] > seq:  # appended again while we read: every row we read held
            return Verdict(incident_id, count, unchained, seq, None)
    if (seq, previous) != (stored[0], stored[1]):
        return Verdict(incident_id, count, unchained, seq, Break(seq + 1 if stored[0] > seq else None, None,
                       f"the chain ends at row {seq} but its head records row {stored[0]}: rows were removed "
                       "from the end, or the head was altered"))
    return Verdict(incident_id, count, unchained, seq, None)
