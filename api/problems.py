"""Every error as application/problem+json (RFC 9457): never an HTML page, never a stack trace."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, json, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from engine.errors import Conflict, EngineError, Forbidden, Invalid, NotFound, Problem, TooLarge

from .schemas.common import ProblemSchema

log = logging.getLogger("incident_engine.api")

_RESERVED = {"type", "title", "status", "detail", "errors", "headers"}
_STATUS = {NotFound: 404, Conflict: 409, Invalid: 422, TooLarge: 413, Forbidden: 403}


def problem(status: int, title: str, detail: str | None = None, errors: list[dict[str, Any]] | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update({k: v for k, v in extra.items() if v is not None})
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _webargs_errors(messages: Any) -> list[dict[str, Any]]:
    """Flatten webargs/marshmallow messages ({'json': {'field': ['msg']}}) into one entry per field."""
    errors: list[dict[str, Any]] = []

    def walk(node: Any, path: list[str]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, [*path, str(key)])
        elif isinstance(node, list) and node and all(isinstance(m, str) for m in node):
            for message in node:
                errors.append({"field": ".".join(path) or None, "message": message})
        else:
            errors.append({"field": ".".join(path) or None, "message": str(node)})

    for location, fields in (messages or {}).items():
        walk(fields, [] if location in ("json", "form", "files") else [location])
    return errors


_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _declare_generic(operation: dict[str, Any], parameters: list[Any]) -> None:
    """Declare by number the errors any operation of its shape can answer, so that a client reads every status
    it may get from the document ("default" tells it nothing): 400 for a body that is not JSON, 404 for an
    unknown (or out of range) path parameter."""
    responses = operation.setdefault("responses", {})
    if "requestBody" in operation and "400" not in responses:
        responses["400"] = {"description": "the body is not valid JSON (or not of the declared media type)",
                            "content": _PROBLEM}
    if any(isinstance(p, dict) and p.get("in") == "path" for p in parameters) and "404" not in responses:
        responses["404"] = {"description": "no such resource (an unknown id or key, or a number out of range)",
                            "content": _PROBLEM}


def problem_documented(spec: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with every error response (4xx, 5xx, default) as application/problem+json, the
    type every error of /api/v1 has (the Camunda dialect's paths are not in this document)."""
    def fix(response: dict[str, Any]) -> None:
        content = response.get("content") or {}
        if "application/json" in content and "application/problem+json" not in content:
            content["application/problem+json"] = content.pop("application/json")

    for path_item in spec.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            _declare_generic(operation, [*path_item.get("parameters", []), *operation.get("parameters", [])])
            for code, response in (operation.get("responses") or {}).items():
                if (code == "default" or str(code)[:1] in "45") and "$ref" not in response:
                    fix(response)
    for response in (spec.get("components", {}).get("responses") or {}).values():
        fix(response)
    return spec


class ProblemApi(Api):
    """flask-smorest's Api, answering every HTTP error with problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def _openapi_json(self) -> Response:
        return Response(json.dumps(problem_documented(self.spec.to_dict()), indent=2, sort_keys=False),
                        mimetype="application/json")

    def handle_http_exception(self, error: HTTPException) -> Response:  # type: ignore[override]
        status = error.code or 500
        if status >= 500:
            return problem(500, "Internal server error", "the server failed; the error was logged")
        data = getattr(error, "data", None) or {}
        errors = _webargs_errors(data.get("messages")) if "messages" in data else None
        detail = "the request does not match the schema" if errors else error.description
        headers = dict(data.get("headers") or {})
        if status == 405 and error.get_response().headers.get("Allow"):
            headers["Allow"] = error.get_response().headers["Allow"]
        return problem(status, error.name, detail, errors, headers=headers)


def register(app: Flask) -> None:
    @app.errorhandler(EngineError)
    def _engine_error(err: EngineError) -> Response:
        status = next((code for cls, code in _STATUS.items() if isinstance(err, cls)), 400)
        errors = [p.as_dict() for p in err.problems] or None
        extra = {k: v for k, v in err.extra.items() if k not in _RESERVED}
        return problem(status, err.title, err.detail, errors, **extra)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Response:
        if isinstance(err, HTTPException):
            return app.extensions["incident_engine_api"].handle_http_exception(err)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem(500, "Internal server error", "the server failed; the error was logged")


__all__ = ["ProblemApi", "Problem", "problem", "register"]
