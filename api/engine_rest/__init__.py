"""The Camunda 7 REST dialect (`/engine-rest`), a second edge over the same engine services as /api/v1.

One blueprint per Camunda resource, nested in a parent that is mounted twice: `/engine-rest` and
`/engine-rest/engine/default` (the named default engine). The parent authenticates (the same bearer
tokens as /api/v1, or HTTP Basic against BASIC_CREDENTIALS_FILE) and answers every error, including
unknown paths and methods, with Camunda's `{"type", "message"}` body: never problem+json, never HTML.
"""
from __future__ import annotations

import base64
import binascii
import logging
import math

from flask import Blueprint, Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from engine.errors import EngineError
from engine.identity.credentials import BasicCredentials
from engine.identity.principal import Principal
from engine.identity.tokens import TokenError
from engine.services import sign_in

from ..extensions import engine
from . import (
    condition,
    deployment,
    external_task,
    history,
    incident,
    message,
    process_definition,
    process_instance,
    signal,
    task,
    version,
)
from .translate import MOUNTS, RestError, engine_error, error_body

log = logging.getLogger("incident_engine.engine_rest")
REALM = "default"  # Camunda's realm is the engine name
RESOURCES = (version.blp, deployment.blp, process_definition.blp, process_instance.blp, task.blp, history.blp, incident.blp,
             external_task.blp, message.blp, signal.blp, condition.blp)


def _challenge(message: str, retry_after: float = 0.0) -> Response:
    response = error_body(401, "AuthenticationException", message)
    if retry_after > 0:
        response.headers["Retry-After"] = str(math.ceil(retry_after))
    response.headers.add("WWW-Authenticate", f'Basic realm="{REALM}"')
    response.headers.add("WWW-Authenticate", 'Bearer realm="incident-engine"')
    return response


def _authenticate() -> Response | None:
    g.principal = g.actor = None
    if request.method == "OPTIONS":
        return None
    header = request.headers.get("Authorization", "").strip()
    if not header:
        return _challenge("Authentication required: send Authorization: Basic or Bearer")
    scheme, _, credentials = header.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        try:
            principal = current_app.extensions["incident_engine_tokens"].verify(credentials)
        except TokenError as err:
            return _challenge(f"the bearer token was refused: {err}")
    elif scheme.lower() == "basic" and credentials:
        found = _basic(credentials)
        if isinstance(found, Response):
            return found
        principal = found
    else:
        return _challenge("the Authorization header must be Basic or Bearer")
    g.principal, g.actor = principal, principal.user_id
    return None


def _basic(credentials: str) -> Principal | Response:
    """HTTP Basic with the shared back-off (engine/services/sign_in.py): a client that failed too often
    waits (401 with Retry-After) and its attempts cost no password hashing meanwhile."""
    try:
        user, sep, password = base64.b64decode(credentials, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        user, sep, password = "", "", ""
    basic: BasicCredentials = current_app.extensions["incident_engine_basic"]
    if not basic.enabled:
        return _challenge("Invalid username or password (HTTP Basic is not configured: BASIC_CREDENTIALS_FILE)")
    if not sep:
        return _challenge("Invalid username or password")
    principal = basic.remembered(user, password)
    if principal is not None:
        return principal
    address = request.remote_addr
    wait, on_record = sign_in.wait_before(engine(), user, address)
    if wait > 0:
        return _challenge(_too_many(wait), retry_after=wait)
    principal = basic.verify(user, password)
    if principal is None:
        delay = sign_in.failed(engine(), user, address)
        return _challenge(_too_many(delay) if delay else "Invalid username or password", retry_after=delay)
    if on_record:
        sign_in.succeeded(engine(), user, address)
    return principal


def _too_many(seconds: float) -> str:
    return (f"Invalid username or password, too many times: this user may try again from this address in "
            f"{math.ceil(seconds)} s")


def _error(err: Exception) -> Response:
    if isinstance(err, RestError):
        return error_body(err.status, err.type, err.message)
    if isinstance(err, EngineError):
        return engine_error(err)
    if isinstance(err, HTTPException):
        status = err.code or 500
        if status == 413:
            return error_body(400, "InvalidRequestException", "the request body is too large")
        if status < 500:
            return error_body(status, "RestException", err.description or err.name)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_body(500, "ProcessEngineException", "the server failed; the error was logged")


def _unknown(rest: str = "") -> Response:
    """A path or method this dialect does not serve: Camunda's 404 (or 405) body, not a 500 or a page."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in ("GET", "POST", "PUT", "DELETE"):
        try:
            endpoint, _args = adapter.match(method=method)
        except (NotFound, MethodNotAllowed):
            continue
        if not endpoint.endswith("._unknown"):
            allowed.append(method)
    if allowed:
        response = error_body(405, "NotAllowedException", f"HTTP {request.method} is not allowed here; "
                                                          f"use {', '.join(allowed)}")
        response.headers["Allow"] = ", ".join(allowed)
        return response
    return error_body(404, "NotFoundException",
                      f"{request.method} {request.path} is not part of the Camunda REST API this engine serves")


def _blueprint() -> Blueprint:
    parent = Blueprint("engine_rest", __name__)
    parent.before_request(_authenticate)
    parent.register_error_handler(Exception, _error)
    for resource in RESOURCES:
        parent.register_blueprint(resource)
    parent.add_url_rule("/", "_unknown", _unknown, methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    parent.add_url_rule("/<path:rest>", "_unknown", _unknown, methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    return parent


def install(app: Flask) -> None:
    """Mount the dialect at both of Camunda's base paths; a bad credentials file fails start-up."""
    settings = app.extensions["incident_engine"].settings
    app.extensions["incident_engine_basic"] = BasicCredentials(settings.basic_credentials_file)
    parent = _blueprint()
    for name, prefix in MOUNTS.items():
        app.register_blueprint(parent, url_prefix=prefix, name=name)


def is_dialect_request() -> bool:
    """True for requests to the dialect's endpoints (they authenticate themselves)."""
    return (request.blueprint or "").split(".")[0] in MOUNTS
