"""Bearer-token authentication for every endpoint but health and docs, and the roles each operation needs.

`install` verifies the token before any view runs (401 with WWW-Authenticate when missing or bad);
`requires` refuses callers without a role for the operation (403) and writes the roles into OpenAPI.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, g, request
from flask_smorest import Api, Blueprint

from engine.config import Settings
from engine.identity.policy import require_any, roles_for
from engine.identity.principal import ROLES
from engine.identity.tokens import TokenError, TokenVerifier

from .identity import current_principal
from .problems import problem
from .schemas.common import ProblemSchema

REALM = 'Bearer realm="incident-engine"'
# /metrics has its own protection (METRICS_TOKEN or a network allow-list, for Prometheus); static assets
# are public files.
PUBLIC_ENDPOINTS = frozenset({"health.healthz", "health.readyz", "api-docs.openapi_json", "api-docs.openapi_swagger_ui",
                              "metrics.metrics", "static"})
# Pages a person opens in a browser may carry the token as `?access_token=` (RFC 6750 section 2.3),
# because a link cannot set a header. Our access log records the path without the query.
QUERY_TOKEN_BLUEPRINTS = frozenset({"reports", "scenario_reports"})
# Edges with their own authentication (api/engine_rest: Bearer or HTTP Basic, Camunda's 401 body; api/web:
# the signed session cookie).
SELF_AUTHENTICATING = frozenset({"engine_rest", "engine_rest_default", "web"})
SCHEME = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
          "description": "A JWT from your identity provider, or `incident-engine token --user U --role R`."}
SPEC_OPTIONS: dict[str, Any] = {"security": [{"bearerAuth": []}]}

F = TypeVar("F", bound=Callable[..., Any])
_DOC = Blueprint("_auth_doc", __name__)  # only its `doc` decorator is used, to write OpenAPI fields


def challenge(detail: str, error: str | None = None) -> Response:
    """401 problem+json with the RFC 6750 challenge (error="invalid_token" when a token was refused)."""
    value = REALM + (f', error="{error}"' if error else "")
    return problem(401, "Unauthorized", detail, headers={"WWW-Authenticate": value})


def install(app: Flask, settings: Settings) -> None:
    """Verify the bearer token of every request to a protected endpoint; bad token settings fail start-up."""
    verifier = TokenVerifier(settings)
    app.extensions["incident_engine_tokens"] = verifier

    @app.before_request
    def _authenticate() -> Response | None:
        g.principal = g.actor = None
        if request.method == "OPTIONS" or request.endpoint in PUBLIC_ENDPOINTS:
            return None
        if (request.blueprint or "").split(".")[0] in SELF_AUTHENTICATING:
            return None  # the Camunda dialect checks Basic or Bearer itself, and answers in its own words
        header = request.headers.get("Authorization", "").strip()
        if not header and request.blueprint in QUERY_TOKEN_BLUEPRINTS and request.args.get("access_token"):
            header = f"Bearer {request.args['access_token']}"
        if not header:
            return challenge("this API needs a bearer token: Authorization: Bearer <JWT>")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return challenge("the Authorization header must be `Bearer <JWT>`", error="invalid_request")
        try:
            principal = verifier.verify(token.strip())
        except TokenError as err:
            return challenge(f"the bearer token was refused: {err}", error="invalid_token")
        g.principal, g.actor = principal, principal.user_id
        return None


def document(api: Api) -> None:
    """Declare the bearer scheme, so Swagger UI shows an Authorize button that sends the token."""
    api.spec.components.security_scheme("bearerAuth", SCHEME)


def requires(permission: str, *alternatives: str) -> Callable[[F], F]:
    """Refuse (403) callers without a role granting `permission` (or one of the `alternatives`, when the
    request body decides which applies), before the body is even parsed.

    Put it above the other decorators. The engine service checks the exact permission again; both read
    engine.identity.policy.PERMISSIONS, so the edge and the engine cannot disagree.
    """
    permissions = (permission, *alternatives)
    granted = {role for p in permissions for role in roles_for(p)}
    roles = tuple(r for r in ROLES if r in granted)

    def decorator(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            require_any(current_principal(), permission, *alternatives)
            return func(*args, **kwargs)

        documented = _DOC.doc(
            description=f"Roles: {', '.join(roles)}.", security=[{"bearerAuth": []}],
            responses={
                "401": {"description": "no bearer token, or a bad one",
                        "content": {"application/problem+json": {"schema": ProblemSchema}}},
                "403": {"description": f"not allowed: the caller has none of the roles {', '.join(roles)}, "
                                       "or the operation's own rule refuses them",
                        "content": {"application/problem+json": {"schema": ProblemSchema}}},
            },
            **{"x-required-roles": list(roles), "x-permission": permission if not alternatives else list(permissions)})
        return documented(wrapper)  # type: ignore[no-any-return]

    return decorator
