"""Responses written by orjson are the documents Flask's own provider writes (same keys, order and values),
except that datetimes and dates are ISO 8601 where Flask writes HTTP dates."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from api.json_provider import OrjsonProvider

APP = Flask(__name__)


class _FlaskWithIsoDates(DefaultJSONProvider):
    """Flask's own provider, but with the ISO 8601 dates every one of our responses uses."""

    @staticmethod
    def default(o: object) -> object:
        if isinstance(o, (datetime, date)):
            return o.isoformat()
        return DefaultJSONProvider.default(o)


def _both() -> tuple[OrjsonProvider, DefaultJSONProvider]:
    return OrjsonProvider(APP), _FlaskWithIsoDates(APP)


DOC = {"b": 1, "a": [True, None, 1.5, "naïve"], "when": datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
       "day": date(2026, 12, 1), "id": uuid.UUID(int=7), "amount": Decimal("12.30"),
       "nested": {"z": {"y": []}, "x": "é"}}


def test_the_same_document_as_flask_writes() -> None:
    fast, flask_own = _both()
    assert json.loads(fast.dumps(DOC)) == json.loads(flask_own.dumps(DOC))
    ascii_only = {k: v for k, v in DOC.items() if k not in ("a", "nested")}
    assert fast.dumps(ascii_only, separators=(",", ":")) == flask_own.dumps(ascii_only, separators=(",", ":"))


def test_responses_are_compact_and_fall_back_for_what_orjson_cannot_write() -> None:
    fast, flask_own = _both()
    with APP.app_context():
        response = fast.response(DOC)
        assert response.mimetype == "application/json" and response.get_data().endswith(b"\n")
        assert json.loads(response.get_data()) == json.loads(flask_own.response(DOC).get_data())
        huge = {"n": 2 ** 70}  # beyond orjson's 64-bit integers: Flask's provider writes it
        assert json.loads(fast.response(huge).get_data()) == huge
        assert fast.dumps(huge) == flask_own.dumps(huge)


def test_datetimes_and_dates_are_iso_8601_on_the_fast_path_and_the_fallback() -> None:
    fast, _ = _both()
    doc = {"when": datetime(2026, 12, 1, 9, 30, tzinfo=UTC), "day": date(2026, 12, 1)}
    assert json.loads(fast.dumps(doc)) == {"when": "2026-12-01T09:30:00+00:00", "day": "2026-12-01"}
    assert json.loads(fast.dumps({**doc, "n": 2 ** 70}))["when"] == "2026-12-01T09:30:00+00:00"  # Flask's path
