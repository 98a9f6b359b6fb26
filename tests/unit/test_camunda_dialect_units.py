"""Pure parts of the Camunda dialect: typed variables, dates, which topics are pulled, credentials files."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from api.engine_rest.translate import RestError, fmt_date, parse_date, typed, variables_in
from engine.config import Settings, Topic
from engine.identity.credentials import BasicCredentials, CredentialsError, add_user


def test_dates_always_have_milliseconds_and_a_numeric_offset() -> None:
    assert fmt_date(datetime(2015, 10, 6, 16, 34, 42, tzinfo=UTC)) == "2015-10-06T16:34:42.000+0000"
    assert fmt_date(datetime(2015, 10, 6, 16, 34, 42, 123456, tzinfo=timezone(timedelta(hours=2)))) \
        == "2015-10-06T16:34:42.123+0200"
    assert fmt_date(None) is None
    assert parse_date("2015-10-06T16:34:42.000+0200", "x") == datetime(2015, 10, 6, 14, 34, 42, tzinfo=UTC)
    assert parse_date("2015-10-06T16:34:42Z", "x") == datetime(2015, 10, 6, 16, 34, 42, tzinfo=UTC)
    with pytest.raises(RestError):
        parse_date("tomorrow", "dueBefore")


def test_variables_in_typed_and_untyped() -> None:
    got = variables_in({
        "a": {"value": "x"}, "b": {"value": 3, "type": None, "valueInfo": None}, "c": {"value": "42", "type": "Integer"},
        "d": {"value": "TRUE", "type": "Boolean"}, "e": {"value": '{"k": [1]}', "type": "Json"},
        "f": {"value": 1.5, "type": "Double"}, "g": {"value": None, "type": "Null"},
        "h": {"value": '{"k": 1}', "type": "Object", "valueInfo": {"serializationDataFormat": "application/json"}},
    })
    assert got == {"a": "x", "b": 3, "c": 42, "d": True, "e": {"k": [1]}, "f": 1.5, "g": None, "h": {"k": 1}}
    for bad in ({"x": {"value": "a", "type": "Integer"}}, {"x": {"value": 2**40, "type": "Integer"}},
                {"x": {"value": "maybe", "type": "Boolean"}}, {"x": {"value": 1, "type": "Fancy"}},
                {"x": {"value": "AAA", "type": "Bytes"}}, {"x": "bare"}, {"x": {"value": "{", "type": "Json"}},
                {"x": {"value": "rO0", "type": "Object",
                       "valueInfo": {"serializationDataFormat": "application/x-java-serialized-object"}}}):
        with pytest.raises(RestError) as err:
            variables_in(bad)
        assert err.value.status == 400


def test_values_out_always_carry_type_and_value_info() -> None:
    assert typed("x") == {"type": "String", "value": "x", "valueInfo": {}}
    assert typed(True)["type"] == "Boolean" and typed(7)["type"] == "Integer" and typed(2**40)["type"] == "Long"
    assert typed(None) == {"type": "Null", "value": None, "valueInfo": {}}
    assert typed({"a": 1}) == {"type": "Json", "value": '{"a": 1}', "valueInfo": {}}


def test_which_external_topics_are_pulled() -> None:
    default = Settings()
    assert default.pulls("charge-card") and not default.pulls("notify-stakeholders")  # bundled push topic
    assert not Settings(external_task_topics=()).pulls("charge-card")
    listed = Settings(external_task_topics=("charge-card",), outbox_topics={"x": Topic("x")})
    assert listed.pulls("charge-card") and not listed.pulls("other") and not listed.pulls("x")


def test_credentials_file_rules(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    add_user(path, "w", "secret-1", ["integration"], ["t"])
    add_user(path, "w", "secret-2", ["integration"], ["t"])  # replaced, not duplicated
    assert len(json.loads(path.read_text())["users"]) == 1
    source = BasicCredentials(path)
    assert source.verify("w", "secret-1") is None and source.verify("w", "secret-2") is not None
    assert source.verify("w", "secret-2") is not None  # remembered: no second argon2 check
    add_user(path, "w", "secret-3", ["integration"], ["t"])
    assert source.verify("w", "secret-2") is None  # the file changed: the memory is dropped
    with pytest.raises(CredentialsError):
        add_user(path, "x", "pw-pw-pw", ["wizard"], [])
    path.write_text('{"users": [{"user": "plain", "password_hash": "hunter2"}]}')
    with pytest.raises(CredentialsError):
        BasicCredentials(path)
    assert not BasicCredentials(None).enabled and BasicCredentials(None).verify("a", "b") is None
