"""Opaque cursors for keyset pagination."""
from __future__ import annotations

import base64
import json
from typing import Any

from engine.errors import Invalid, Problem


def encode_cursor(values: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(value, dict):
            raise ValueError
        return value
    except (ValueError, TypeError) as err:
        raise Invalid("the cursor is not one this service issued",
                      [Problem("malformed cursor", field="cursor")]) from err
