"""JSON columns are read by orjson with the standard library behind it: the same values either way."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import JSON, Column, MetaData, Table, insert, select

from engine.db.database import make_engine, stored_json

DOCUMENTS = [
    '{"a": 1, "b": [1.5, -2e-07, true, false, null], "c": {"d": "\\u00e9t\\u00e9 \\ud83d\\ude00"}}',
    '{"big": 123456789012345678901234567890, "small": -9223372036854775809}',
    '[0.1, 1e308, 12345678901234567890.5, "x"]',
    '"text"',
    "{}",
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_the_values_are_what_the_standard_library_reads(text: str) -> None:
    expected = json.loads(text)
    for given in (text, text.encode(), bytearray(text.encode()), memoryview(text.encode())):
        value = stored_json(given)
        assert value == expected and type(value) is type(expected)


def test_not_json_is_still_an_error() -> None:
    with pytest.raises(ValueError):
        stored_json(b"{not json")


def test_a_json_column_reads_back_through_it(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/j.sqlite3")
    table = Table("t", MetaData(), Column("doc", JSON))
    table.metadata.create_all(engine)
    doc = {"big": 2**70, "f": 0.1, "s": "\u00e9"}
    with engine.begin() as conn:
        conn.execute(insert(table).values(doc=doc))
    with engine.connect() as conn:
        assert conn.execute(select(table.c.doc)).scalar_one() == doc
    assert engine.dialect._json_deserializer is stored_json  # type: ignore[attr-defined]
    engine.dispose()
