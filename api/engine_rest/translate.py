"""Camunda 7 REST translation: typed variables, Camunda's date format, list parameters and error bodies.

Everything the dialect turns into or out of our own shapes lives here, so the resource blueprints only
map fields. Error bodies are `{"type": <Camunda exception name>, "message": ...}` with Camunda's status
codes; dates are `yyyy-MM-dd'T'HH:mm:ss.SSSZ` (always with milliseconds: pycamunda's parser needs them).
"""
from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from flask import Response, request

from engine.errors import Conflict, EngineError, Forbidden, Invalid, NotFound, TooLarge
from engine.safe_input import INT32_MAX


class RestError(Exception):
    """A Camunda-style error raised by the dialect itself (bad parameters, unsupported features)."""

    def __init__(self, status: int, message: str, type_: str = "InvalidRequestException") -> None:
        super().__init__(message)
        self.status, self.message, self.type = status, message, type_


def bad_request(message: str) -> RestError:
    return RestError(400, message)


def not_found(message: str) -> RestError:
    return RestError(404, message)


def error_body(status: int, type_: str, message: str, **extra: Any) -> Response:
    body = {"type": type_, "message": message, **extra}
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _problem_text(err: EngineError) -> str:
    parts = [err.detail]
    for p in err.problems:
        where = p.field or p.element_id
        parts.append(f"{where}: {p.message}" if where else p.message)
    return "; ".join(parts)


def engine_error(err: EngineError) -> Response:
    """Our domain errors in Camunda's words: 404 unknown ids, 400 bad input, 403 not allowed, 500 conflicts
    (Camunda answers a claim race or an optimistic-locking loss with 500 too)."""
    if isinstance(err, NotFound):
        return error_body(404, "InvalidRequestException", err.detail)
    if isinstance(err, Forbidden):
        return error_body(403, "AuthorizationException", err.detail)
    if isinstance(err, Invalid | TooLarge):
        return error_body(400, "InvalidRequestException", _problem_text(err))
    if isinstance(err, Conflict):
        if "lock_holder" in err.extra:  # a worker finishing a task it does not hold
            return error_body(400, "BadUserRequestException", err.detail)
        if "version_status" in err.extra:  # a live start of a version that is not active: say what to do
            return error_body(400, "BadUserRequestException", err.detail)
        if err.extra.get("state") in ("completed", "cancelled"):
            return error_body(404, "InvalidRequestException", f"{err.detail}: it no longer exists at runtime")
        if err.extra.get("assignee"):
            return error_body(500, "TaskAlreadyClaimedException",
                              f"{err.detail}: the task is already claimed by someone else.")
        return error_body(500, "ProcessEngineException", err.detail)
    return error_body(400, "InvalidRequestException", _problem_text(err))


# --- dates --------------------------------------------------------------------------------------------
def fmt_date(value: datetime | None) -> str | None:
    """`2015-10-06T16:34:42.000+0000`: milliseconds and a numeric offset, never `Z`."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}" + value.strftime("%z")


def parse_date(raw: str, name: str) -> datetime:
    """Camunda's format, or any ISO 8601 timestamp (a missing offset means UTC)."""
    text = raw.strip()
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and text[-6] != ":":
        text = text[:-2] + ":" + text[-2:]  # +0200 -> +02:00 for fromisoformat
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"Cannot set query parameter '{name}' to value '{raw}': "
                          "expected a date like 2026-01-05T09:00:00.000+0000") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- typed variables ------------------------------------------------------------------------------------
_INTEGERS = {"Integer": 2**31, "Short": 2**15, "Long": 2**63}
_UNSUPPORTED = {"File", "Bytes"}


def _convert(name: str, type_: str, value: Any, info: dict[str, Any]) -> Any:
    def cannot() -> RestError:
        return bad_request(f"Cannot convert value '{value}' of type '{type_}' for variable '{name}'")

    if value is None or type_ == "Null":
        return None
    if type_ == "String":
        return value if isinstance(value, str) else str(value)
    if type_ == "Boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise cannot()
    if type_ in _INTEGERS:
        try:
            number = int(value) if not isinstance(value, bool) and float(value) == int(float(value)) else None
        except (TypeError, ValueError):
            number = None
        if number is None or not -_INTEGERS[type_] <= number < _INTEGERS[type_]:
            raise cannot()
        return number
    if type_ == "Double":
        try:
            real = float(value)
        except (TypeError, ValueError):
            raise cannot() from None
        if isinstance(value, bool) or not math.isfinite(real):
            raise cannot()
        return real
    if type_ == "Date":
        if not isinstance(value, str):
            raise cannot()
        return parse_date(value, name).astimezone(UTC).isoformat()
    if type_ in ("Json", "Object"):
        data_format = (info or {}).get("serializationDataFormat") or "application/json"
        if type_ == "Object" and data_format != "application/json":
            raise bad_request(f"variable '{name}': only application/json objects are supported, not "
                              f"{data_format} (serialized Java objects cannot be read here)")
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise cannot() from None
    raise bad_request(f"Unsupported value type '{type_}' for variable '{name}'")


def variables_in(raw: Any, field: str = "variables") -> dict[str, Any]:
    """`{name: {value, type?, valueInfo?}}` to plain values; an untyped value (no type, or null) is kept
    as its JSON value, the way Camunda makes an untyped value of it."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise bad_request(f"'{field}' must be an object of variables")
    values: dict[str, Any] = {}
    for name, item in raw.items():
        if not isinstance(item, dict):
            raise bad_request(f"variable '{name}' must be an object with a 'value'")
        type_ = item.get("type")
        if type_ in _UNSUPPORTED:
            raise bad_request(f"variable '{name}' has type {type_}, which this engine does not store")
        if type_ is not None and not isinstance(type_, str):
            raise bad_request(f"variable '{name}' has a type that is not a string")
        info: dict[str, Any] = item["valueInfo"] if isinstance(item.get("valueInfo"), dict) else {}
        values[str(name)] = item.get("value") if type_ is None else _convert(str(name), type_, item.get("value"), info)
    return values


def typed(value: Any) -> dict[str, Any]:
    """One value as Camunda shows it: always `value`, `type` and `valueInfo`."""
    if value is None:
        return {"type": "Null", "value": None, "valueInfo": {}}
    if isinstance(value, bool):
        return {"type": "Boolean", "value": value, "valueInfo": {}}
    if isinstance(value, int):
        return {"type": "Integer" if -2**31 <= value < 2**31 else "Long", "value": value, "valueInfo": {}}
    if isinstance(value, float):
        return {"type": "Double", "value": value, "valueInfo": {}}
    if isinstance(value, str):
        return {"type": "String", "value": value, "valueInfo": {}}
    if isinstance(value, datetime):
        return {"type": "Date", "value": fmt_date(value), "valueInfo": {}}
    return {"type": "Json", "value": json.dumps(value, default=str), "valueInfo": {}}


def variables_out(values: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return {name: typed(value) for name, value in (values or {}).items()}


# --- request parameters ---------------------------------------------------------------------------------
def body() -> dict[str, Any]:
    """The JSON body as an object ({} when empty); anything else is Camunda's 400."""
    if not request.get_data(cache=True):
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise bad_request("The request body must be a JSON object")
    return data


def listed(name: str, source: Any = None) -> list[str]:
    """A list parameter sent comma-separated (`a,b`, Camunda's documented form) or repeated (`a&a`,
    what pycamunda's requests sends), or a JSON array in a POST body."""
    source = request.args if source is None else source
    if not hasattr(source, "getlist"):
        raw = source.get(name)
        items = raw if isinstance(raw, list) else [raw] if raw is not None else []
    else:
        items = source.getlist(name)
    return [part.strip() for item in items for part in str(item).split(",") if part.strip()]


def flag(name: str, source: Any = None, default: bool = False) -> bool:
    """A boolean in any case (`true`, `True`, `TRUE`); pycamunda sends Python's `True`/`False`."""
    source = request.args if source is None else source
    raw = source.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text not in ("true", "false"):
        raise bad_request(f"Cannot set query parameter '{name}' to value '{raw}'")
    return text == "true"


def integer(name: str, source: Any = None, default: int | None = None, minimum: int = 0,
            maximum: int = INT32_MAX) -> int | None:
    """An integer parameter within [minimum, maximum] (by default the database's `integer`, as Camunda's
    Java int is)."""
    source = request.args if source is None else source
    raw = source.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool) or (isinstance(raw, str) and len(raw) > 20):
        raise bad_request(f"Cannot set query parameter '{name}': not an integer")
    try:
        value = int(raw)
    except (TypeError, ValueError, OverflowError):
        raise bad_request(f"Cannot set query parameter '{name}' to value '{str(raw)[:40]}'") from None
    if not minimum <= value <= maximum:
        raise bad_request(f"Cannot set query parameter '{name}' to value '{raw}': between {minimum} and {maximum}")
    return value


def text(name: str, source: Any = None) -> str | None:
    source = request.args if source is None else source
    raw = source.get(name)
    return None if raw is None or raw == "" else str(raw)


def paging(source: Any = None) -> tuple[int, int | None]:
    """firstResult and maxResults (Camunda pages by offset)."""
    return integer("firstResult", source, 0) or 0, integer("maxResults", source)


def served(names: set[str] | frozenset[str], source: Any = None, what: str = "this query") -> None:
    """Refuse (400) a parameter this query does not serve, so that a Camunda filter we lack never silently
    widens the result. Paging is always served; an empty value, or `false` (a Camunda filter flag that is
    off restricts nothing), is let through."""
    source = request.args if source is None else source
    for key in source:
        if key in names or key in ("firstResult", "maxResults"):
            continue
        raw = source.get(key)
        if raw is None or raw == "" or raw == [] or raw is False or str(raw).strip().lower() == "false":
            continue
        raise bad_request(f"Cannot set query parameter '{key}': {what} does not support it here (served: "
                          f"{', '.join(sorted(names | {'firstResult', 'maxResults'}))})")


# The two mount points (the parent blueprint's registered name -> its URL prefix).
MOUNTS = {"engine_rest": "/engine-rest", "engine_rest_default": "/engine-rest/engine/default"}


def links(path: str) -> list[dict[str, str]]:
    """Camunda's `links` with the resource's own URL under the mount point the request came in on."""
    root = (request.blueprint or "engine_rest").split(".")[0]
    base = request.host_url.rstrip("/") + request.script_root + MOUNTS.get(root, "/engine-rest")
    return [{"method": "GET", "href": base + path, "rel": "self"}]
