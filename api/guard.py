"""The input guard: every request's path, query, form and JSON body are checked before any view runs.

One place refuses what the database or Python would otherwise turn into a 500: NUL bytes and lone surrogates
in any string, JSON nested too deep, numbers too long or not finite (NaN, Infinity), integers beyond 64 bits,
over-long header values that are stored. /api/v1 answers 422 problem+json naming the field; the Camunda
dialect answers its own 400 body. Integer path segments are bounded by `BoundedInt` (a 404 beyond the
database's integer range, since nothing can have such a number).
"""
from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from werkzeug.routing import IntegerConverter

from engine.safe_input import INT32_MAX, MAX_KEY_CHARS, UnsafeInput, check_text, loads

from .problems import problem

# Request headers whose value the service stores (a column of MAX_KEY_CHARS)
STORED_HEADERS = ("Idempotency-Key",)


class BoundedInt(IntegerConverter):
    """`<int:...>` within PostgreSQL's `integer`: at most 10 digits and at most 2**31 - 1."""

    regex = r"\d{1,10}"

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", INT32_MAX)
        super().__init__(map, *args, **kwargs)


def _is_dialect() -> bool:
    return request.path.startswith("/engine-rest")


def refuse(err: UnsafeInput) -> Response:
    """The answer for refused input, in the words of the edge the request came to."""
    where = err.where or "request"
    if _is_dialect():
        from .engine_rest.translate import error_body

        return error_body(400, "InvalidRequestException", f"{where}: {err.message}")
    return problem(422, "Unprocessable Entity", "the request contains a value the service will not store",
                   [{"field": where, "message": err.message}])


def _check_pairs(location: str, pairs: Any) -> None:
    for key, value in pairs:
        check_text(key, f"{location}.{key}" if text_ok(key) else location)
        if isinstance(value, str):
            check_text(value, f"{location}.{key}")


def text_ok(value: str) -> bool:
    try:
        check_text(value)
    except UnsafeInput:
        return False
    return True


def _is_json() -> bool:
    mimetype = request.mimetype or ""
    return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))


def check_request() -> Response | None:
    """Refuse the request when any part of it is unsafe to store; None lets it through."""
    try:
        check_text(request.path, "path")
        _check_pairs("query", request.args.items(multi=True))
        for name in STORED_HEADERS:
            value = request.headers.get(name)
            if value is not None:
                check_text(value, f"header.{name}", MAX_KEY_CHARS)
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            _check_pairs("form", request.form.items(multi=True))
        elif _is_json() and request.content_length != 0:
            raw = request.get_data(cache=True)
            if raw:
                try:
                    loads(raw)
                except UnsafeInput as err:
                    raise UnsafeInput(err.message, f"json.{err.where}" if err.where else "json") from None
                except ValueError:
                    return None  # not JSON at all: the view's own parser answers 400 in its words
    except UnsafeInput as err:
        return refuse(err)
    return None


def install(app: Flask) -> None:
    """Bound integer path segments and run the guard before every other request hook."""
    app.url_map.converters["int"] = BoundedInt
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)
