"""Opaque cursors for keyset pagination, strictly validated: a crafted cursor is a 422, never a 500."""
from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from engine.errors import Invalid, Problem
from engine.safe_input import INT64_MAX, text_problem

MAX_CURSOR_CHARS = 512
MAX_PAGE_BYTES = 4 * 1024 * 1024  # the default of the MAX_PAGE_BYTES setting (engine.config)
MAX_ID_CHARS = 64


def encode_cursor(values: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def _malformed(err: Exception | None = None) -> Invalid:
    return Invalid("the cursor is not one this service issued", [Problem("malformed cursor", field="cursor")])


def decode_cursor(cursor: str | None, keys: frozenset[str] | None = None) -> dict[str, Any] | None:
    """The cursor's values (exactly `keys`, when given), or Invalid for anything this service did not issue."""
    if not cursor:
        return None
    if len(cursor) > MAX_CURSOR_CHARS:
        raise _malformed()
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError, RecursionError) as err:
        raise _malformed(err) from err
    if not isinstance(value, dict) or (keys is not None and set(value) != keys):
        raise _malformed()
    return value


def decode_position(cursor: str | None) -> tuple[datetime, str] | None:
    """A (created_at, id) cursor as issued by `encode_position`."""
    after = decode_cursor(cursor, frozenset({"t", "id"}))
    if after is None:
        return None
    at, row_id = after["t"], after["id"]
    if not isinstance(at, str) or not isinstance(row_id, str) or len(row_id) > MAX_ID_CHARS \
            or text_problem(row_id) or len(at) > 40:
        raise _malformed()
    try:
        moment = datetime.fromisoformat(at)
    except ValueError as err:
        raise _malformed(err) from err
    if moment.isoformat() != at:
        raise _malformed()
    return moment, row_id


def encode_position(at: datetime, row_id: str) -> str:
    return encode_cursor({"t": at.isoformat(), "id": row_id})


def position_of(row: dict[str, Any]) -> str:
    """The (created_at, id) cursor after `row`."""
    return encode_position(row["created_at"], row["id"])


def decode_sequence(cursor: str | None) -> int:
    """An {"id": n} cursor over a sequence (the audit trail); 0 without a cursor."""
    after = decode_cursor(cursor, frozenset({"id"}))
    if after is None:
        return 0
    row_id = after["id"]
    if isinstance(row_id, bool) or not isinstance(row_id, int) or not 0 <= row_id <= INT64_MAX:
        raise _malformed()
    return row_id


def bounded_page(items: list[dict[str, Any]], rows: list[dict[str, Any]], limit: int,
                 cursor_of: Callable[[dict[str, Any]], str],
                 max_bytes: int = MAX_PAGE_BYTES) -> tuple[list[dict[str, Any]], str | None]:
    """The items that fit `max_bytes` of JSON (always at least one) and the cursor after the last one kept:
    a page ends early rather than grow without bound (big documentation, big task data)."""
    total = 0
    for kept, item in enumerate(items):
        total += len(json.dumps(item, default=str))
        if total > max_bytes and kept > 0:
            return items[:kept], cursor_of(rows[kept - 1])
    return items, cursor_of(rows[-1]) if rows and len(rows) == limit else None
