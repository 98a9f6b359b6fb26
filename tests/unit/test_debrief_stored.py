"""A debrief snapshot is stored exactly as the standard library's JSON round trip would store it."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from engine.db import debrief_rows


def _reference(record: object) -> object:
    return json.loads(json.dumps(record, default=debrief_rows._plain))


@pytest.mark.parametrize("record", [
    {"incident": {"id": "i", "ended_at": datetime(2026, 12, 1, 19, 0, 1, 250, tzinfo=UTC)},
     "timeline": [{"at": datetime(2026, 12, 1, 18, 0, tzinfo=timezone(timedelta(hours=2))), "kind": "x"}],
     "naive": datetime(2026, 1, 2, 3, 4, 5), "minutes": 12.5, "count": 3, "none": None, "flags": [True, False],
     "text": "é ✓ \u2028 \"quoted\"", "tuple": (1, 2)},
    {"big": 2**70, "nested": {"n": -(2**65)}},  # beyond 64 bits: orjson refuses, the standard library stores it
    {"by_number": {1: "a", 2: "b"}},  # non-string keys: JSON makes them strings
])
def test_the_stored_record_is_the_standard_round_trip(record: dict) -> None:
    stored = debrief_rows._as_stored(record)
    assert stored == _reference(record)
    assert json.dumps(stored, sort_keys=True) == json.dumps(_reference(record), sort_keys=True)


def test_a_value_json_cannot_write_is_refused_as_before() -> None:
    with pytest.raises(TypeError):
        debrief_rows._as_stored({"odd": object()})
