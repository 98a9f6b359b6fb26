"""Bearer tokens (JWT): verifying one into a Principal, and issuing one for development and tests."""
from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt

from engine.config import Settings
from engine.safe_input import MAX_KEY_CHARS, UnsafeInput, check_text

from .keys import ASYMMETRIC, TokenKeyError, VerificationKeys, signing_key
from .principal import Principal
from .provider import ProviderMetadata
from .remote_keys import RemoteKeySet
from .token_cache import VerifiedTokens

MAX_TOKEN_BYTES = 16 * 1024
_TTL = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class TokenError(Exception):
    """The token is missing, malformed, forged, expired or not for us; the edge answers 401."""


def parse_ttl(text: str) -> timedelta:
    """'8h', '30m', '1d', '90s' or plain seconds."""
    match = _TTL.match(text)
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"not a duration: {text!r} (use for example 8h, 30m, 1d)")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def claim(payload: Mapping[str, Any], path: str) -> Any:
    """A claim by name, or by a dotted path into nested objects (Keycloak: `realm_access.roles`)."""
    node: Any = payload
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _strings(value: Any) -> list[str]:
    """A list claim; some IdPs send a space- or comma-separated string instead."""
    if isinstance(value, str):
        return [v for v in re.split(r"[\s,]+", value) if v]
    if isinstance(value, list | tuple):
        return [str(v) for v in value if isinstance(v, str | int) and str(v)]
    return []


def _audiences(settings: Settings) -> list[str] | None:
    return [a.strip() for a in settings.jwt_audience.split(",") if a.strip()] if settings.jwt_audience else None


def principal_from_claims(settings: Settings, payload: Mapping[str, Any]) -> Principal:
    """The person verified claims describe, read through the configured claim names (API and web alike)."""
    _numeric_dates(payload)
    user = claim(payload, settings.jwt_claim_user)
    if not isinstance(user, str | int) or isinstance(user, bool) or not str(user).strip():
        raise TokenError(f"the token has no {settings.jwt_claim_user!r} claim naming the user")
    name = claim(payload, settings.jwt_claim_name)
    principal = Principal.of(str(user), _strings(claim(payload, settings.jwt_claim_roles)),
                             _strings(claim(payload, settings.jwt_claim_groups)),
                             name if isinstance(name, str) else None)
    _storable(principal, settings.jwt_claim_user)
    return principal


def _numeric_dates(payload: Mapping[str, Any]) -> None:
    """RFC 7519 4.1.4-4.1.6: exp, nbf and iat are NumericDate, a JSON number (PyJWT also takes "123")."""
    for name in ("exp", "nbf", "iat"):
        value = payload.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not math.isfinite(value)):
            raise TokenError(f"the {name!r} claim must be a number (NumericDate), not {type(value).__name__}")


def _storable(principal: Principal, user_claim: str) -> None:
    """The user id, name, roles and groups end up in audit rows and queries: text we can store, ids of at
    most MAX_KEY_CHARS characters."""
    try:
        check_text(principal.user_id, user_claim, MAX_KEY_CHARS)
        if principal.name is not None:
            check_text(principal.name, "name", 500)
        for value in (*principal.roles, *principal.groups):
            check_text(value, "groups", MAX_KEY_CHARS)
    except UnsafeInput as err:
        raise TokenError(f"the token's {err.where} claim {err.message}") from None


class TokenVerifier:
    """Checks signature (one configured algorithm, never the token's choice), exp, nbf, iss and aud.

    With OIDC_ISSUER set, a token whose `iss` is that issuer is verified instead with the keys its
    discovery document publishes (JWKS URL, asymmetric algorithms only), for the client id as audience."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.keys = VerificationKeys(settings)
        self.algorithm = self.keys.algorithm
        self.issuer = IssuerKeys(settings) if settings.oidc_issuer else None
        self.cache = VerifiedTokens(settings.jwt_cache_size)

    def verify(self, token: str) -> Principal:
        if len(token) > MAX_TOKEN_BYTES:
            raise TokenError("the token is too large")
        try:  # the cache forgets everything when the keys change (a rotated or withdrawn key)
            generation = (self.keys.generation(), self.issuer.generation() if self.issuer else None)
        except TokenKeyError as err:
            raise TokenError(str(err)) from err
        cached = self.cache.get(token, generation)
        if cached is not None:
            return cached
        principal, exp = self._verify(token)
        self.cache.put(token, generation, principal, exp)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        s = self.settings
        try:
            header = jwt.get_unverified_header(token)
            if self.issuer is not None and self.issuer.claims_to_be_from(token):
                payload = self.issuer.decode(token, header)
            else:
                if header.get("alg") != self.algorithm:
                    raise TokenError(f"tokens must be signed with {self.algorithm}")
                payload = jwt.decode(
                    token, self.keys.key_for(header), algorithms=[self.algorithm], audience=_audiences(s),
                    issuer=s.jwt_issuer, leeway=s.jwt_leeway,
                    options={"require": ["exp"], "verify_signature": True})
        except (jwt.PyJWTError, TokenKeyError) as err:
            raise TokenError(str(err) or type(err).__name__) from err
        return principal_from_claims(s, payload), float(payload["exp"])


class IssuerKeys:
    """Tokens of the configured OpenID Connect issuer: keys from its JWKS URL, refreshed on an unknown kid."""

    def __init__(self, settings: Settings) -> None:
        assert settings.oidc_issuer
        self.settings = settings
        self.metadata = ProviderMetadata(settings.oidc_issuer)
        self._sets: dict[str, RemoteKeySet] = {}

    def generation(self) -> tuple[tuple[str, str], ...]:
        """The issuer's key sets as last fetched (each fetched again once its ttl passed)."""
        return tuple((algorithm, keys.document()) for algorithm, keys in sorted(self._sets.items()))

    def claims_to_be_from(self, token: str) -> bool:
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return False
        return isinstance(unverified, dict) and unverified.get("iss") == self.settings.oidc_issuer

    def decode(self, token: str, header: Mapping[str, Any]) -> dict[str, Any]:
        algorithm = header.get("alg")
        if algorithm not in ASYMMETRIC or algorithm not in self.metadata.signing_algorithms():
            raise TokenError(f"tokens of {self.settings.oidc_issuer} must be signed with one of "
                             f"{', '.join(a for a in self.metadata.signing_algorithms() if a in ASYMMETRIC)}")
        keys = self._sets.setdefault(algorithm, RemoteKeySet(self.metadata.jwks_uri, algorithm))
        s = self.settings
        audience = _audiences(s) or [s.oidc_client_id or ""]

        def decoded() -> dict[str, Any]:
            return dict(jwt.decode(token, keys.key_for(header), algorithms=[algorithm], audience=audience,
                                   issuer=s.oidc_issuer, leeway=s.jwt_leeway,
                                   options={"require": ["exp", "iss"], "verify_signature": True}))

        try:
            return decoded()
        except jwt.InvalidSignatureError:
            if header.get("kid") or not keys.refresh():
                raise
            return decoded()  # no kid to say which key: the provider may have rotated its only key


def _put(payload: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = payload
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def issue_token(settings: Settings, *, user: str, roles: Iterable[str] = (), groups: Iterable[str] = (),
                name: str | None = None, ttl: timedelta = timedelta(hours=8), private_key: Path | None = None,
                kid: str | None = None, now: datetime | None = None, **extra: Any) -> str:
    """A token the service accepts: signed with its HS secret (or `private_key` for RS/PS/ES),
    with the configured claim names, issuer and audience."""
    now = now or datetime.now(UTC)
    payload: dict[str, Any] = {"iat": now, "nbf": now, "exp": now + ttl, "jti": str(uuid.uuid4())}
    _put(payload, settings.jwt_claim_user, user)
    if name:
        _put(payload, settings.jwt_claim_name, name)
    _put(payload, settings.jwt_claim_roles, list(roles))
    _put(payload, settings.jwt_claim_groups, list(groups))
    if settings.jwt_issuer:
        payload["iss"] = settings.jwt_issuer
    audiences = _audiences(settings)
    if audiences:
        payload["aud"] = audiences[0] if len(audiences) == 1 else audiences
    payload.update(extra)
    headers = {"kid": kid} if kid else None
    return jwt.encode(payload, signing_key(settings, private_key), algorithm=settings.jwt_algorithm,
                      headers=headers)
